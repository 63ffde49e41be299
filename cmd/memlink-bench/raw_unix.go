//go:build darwin || freebsd || linux || netbsd

package main

import "github.com/ebitengine/purego"

// The raw loader the baselines use: the dynamic loader through purego,
// with nothing around it.

func rawOpen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
}

func rawSym(lib uintptr, name string) (uintptr, error) { return purego.Dlsym(lib, name) }

func rawClose(lib uintptr) error { return purego.Dlclose(lib) }
