package modbuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// ErrNoCompiler is returned, wrapped, by [FindCompiler] when no usable C
// compiler is found for a target.
var ErrNoCompiler = errors.New("modbuild: no C compiler found")

// crossCompilers maps a non-host target to the compiler commands tried in
// order, and the Debian package that provides the first one.
var crossCompilers = map[Target]struct {
	names []string
	pkg   string
}{
	{"windows", "amd64"}: {[]string{"x86_64-w64-mingw32-gcc"}, "gcc-mingw-w64-x86-64"},
	{"linux", "arm64"}:   {[]string{"aarch64-linux-gnu-gcc"}, "gcc-aarch64-linux-gnu"},
	{"linux", "386"}:     {[]string{"i686-linux-gnu-gcc"}, "gcc-i686-linux-gnu"},
	{"linux", "arm"}:     {[]string{"arm-linux-gnueabihf-gcc"}, "gcc-arm-linux-gnueabihf"},
}

// darwinArch maps GOARCH to clang's -arch name for Mac targets.
var darwinArch = map[string]string{"amd64": "x86_64", "arm64": "arm64"}

// hostCompilers are tried, in order, for the host target when neither CC
// nor "go env CC" names one.
var hostCompilers = []string{"cc", "gcc", "clang"}

// CrossEnv returns the name of the environment variable that names the C
// compiler for a non-host target, such as "CC_windows_amd64".
func (t Target) CrossEnv() string {
	return "CC_" + t.GOOS + "_" + t.GOARCH
}

// FindCompiler returns the command that runs a C compiler for target t.
//
// For the host target it uses, in order: the CC environment variable; the
// compiler reported by "go env CC" when that is on PATH; the first of cc,
// gcc and clang on PATH. For another target it uses the variable named by
// [Target.CrossEnv], then a known cross compiler on PATH:
// x86_64-w64-mingw32-gcc for windows/amd64, aarch64-linux-gnu-gcc for
// linux/arm64, i686-linux-gnu-gcc for linux/386, arm-linux-gnueabihf-gcc
// for linux/arm, and "clang -arch ..." for the other Mac architecture on
// a Mac.
//
// The command may hold several words separated by spaces (for example
// "zig cc -target x86_64-windows-gnu"); the first must be a program that
// exists. A compiler named by an environment variable is used as given: if
// it cannot be found, FindCompiler fails rather than trying others. Errors
// wrap [ErrNoCompiler] and say how to install a compiler.
func FindCompiler(t Target) (string, error) {
	if t == HostTarget() {
		return findHostCompiler()
	}
	return findCrossCompiler(t)
}

func findHostCompiler() (string, error) {
	if cc := strings.TrimSpace(os.Getenv("CC")); cc != "" {
		if err := checkCommand(cc); err != nil {
			return "", fmt.Errorf("%w: CC=%q: %v\n%s", ErrNoCompiler, cc, err, installHint(HostTarget()))
		}
		return cc, nil
	}
	var searched []string
	if cc := goEnvCC(); cc != "" {
		if checkCommand(cc) == nil {
			return cc, nil
		}
		searched = append(searched, fmt.Sprintf("%q (from go env CC)", cc))
	}
	for _, name := range hostCompilers {
		if _, err := exec.LookPath(name); err == nil {
			return name, nil
		}
		searched = append(searched, name)
	}
	return "", fmt.Errorf("%w for %s: CC is not set and none of %s is on PATH\n%s",
		ErrNoCompiler, HostTarget(), strings.Join(searched, ", "), installHint(HostTarget()))
}

func findCrossCompiler(t Target) (string, error) {
	env := t.CrossEnv()
	if cc := strings.TrimSpace(os.Getenv(env)); cc != "" {
		if err := checkCommand(cc); err != nil {
			return "", fmt.Errorf("%w: %s=%q: %v\n%s", ErrNoCompiler, env, cc, err, installHint(t))
		}
		return cc, nil
	}
	known := crossCompilers[t]
	known.names = slices.Clone(known.names)
	if t.GOOS == "darwin" && HostTarget().GOOS == "darwin" {
		// Apple's clang builds for either Mac architecture.
		if arch, ok := darwinArch[t.GOARCH]; ok {
			known.names = append(known.names, "clang -arch "+arch)
		}
	}
	for _, name := range known.names {
		if checkCommand(name) == nil {
			return name, nil
		}
	}
	searched := env + " is not set"
	if len(known.names) > 0 {
		searched += " and " + strings.Join(known.names, ", ") + " is not on PATH"
	} else {
		searched += " and no cross compiler is known for this target"
	}
	return "", fmt.Errorf("%w for %s: %s\n%s", ErrNoCompiler, t, searched, installHint(t))
}

// goEnvCC returns the C compiler the go command would use, or "" when the
// go command is not available.
func goEnvCC() string {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	out, err := exec.Command(goCmd, "env", "CC").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// checkCommand reports whether the first word of a compiler command is a
// program that can be run.
func checkCommand(cc string) error {
	fields := strings.Fields(cc)
	if len(fields) == 0 {
		return errors.New("empty command")
	}
	_, err := exec.LookPath(fields[0])
	return err
}

// installHint tells how to get a C compiler for t.
func installHint(t Target) string {
	var b strings.Builder
	b.WriteString("To build memlink modules, install a C compiler")
	if t == HostTarget() {
		switch t.GOOS {
		case "darwin":
			b.WriteString(" (xcode-select --install)")
		case "windows":
			b.WriteString(" (MinGW-w64 gcc, e.g. from MSYS2: pacman -S mingw-w64-x86_64-gcc)")
		default:
			b.WriteString(" (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install gcc; Alpine: apk add gcc musl-dev)")
		}
		b.WriteString(" or set CC to one")
	} else {
		if known, ok := crossCompilers[t]; ok {
			fmt.Fprintf(&b, " for %s (Debian/Ubuntu: apt-get install %s)", t, known.pkg)
		} else {
			fmt.Fprintf(&b, " that targets %s", t)
		}
		fmt.Fprintf(&b, " or set %s to one", t.CrossEnv())
	}
	b.WriteString(", or use modules built elsewhere (the tests read them from the directory in MEMLINK_TEST_MODULES).")
	return b.String()
}
