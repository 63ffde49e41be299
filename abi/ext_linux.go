package abi

// LibraryExt is the file extension of shared libraries on this platform.
const LibraryExt = ".so"
