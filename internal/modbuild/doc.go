// Package modbuild compiles the C modules of package
// github.com/memlink/memlink-go/modules into shared libraries for a
// target operating system and architecture.
//
// memlink itself never uses cgo; modules are compiled by running an
// external C compiler found by [FindCompiler]. [Compile] builds one module,
// and [BuildAll] builds every module into a directory, in parallel, skipping
// those whose sources, definitions, compiler and target are unchanged since
// the last build.
//
// [BuildRust] builds the Rust modules of [modules.RustSource] (the
// memlink-module SDK's examples) with cargo, found by [FindRust], keeping
// cargo's target directory beside the libraries so that rebuilds are
// incremental.
package modbuild
