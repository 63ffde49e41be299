/*
 * A stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 does not
 * ship. The Go runtime (1.22 and later) loads it at start-up and fills its
 * random state through ProcessPrng; without this DLL every Go program for
 * Windows aborts before main under that Wine. Only ProcessPrng is provided,
 * on top of bcrypt's system RNG, which Wine does implement.
 *
 * Built by .ci/wine-env.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	/* BCryptGenRandom takes a ULONG count: feed it in pieces. */
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
