// Package rawloader is the dynamic loader with nothing around it: the
// baseline every memlink load, call and memory figure is compared with, in
// cmd/memlink-bench and in package memlink's benchmarks alike, so that both
// measure against the same thing. It opens libraries with the flags memlink
// uses (RTLD_NOW|RTLD_LOCAL through purego; LoadLibraryEx with
// LOAD_WITH_ALTERED_SEARCH_PATH on Windows).
package rawloader
