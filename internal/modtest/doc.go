// Package modtest gives tests the memlink modules of package
// github.com/memlink/memlink-go/modules as shared libraries for the host.
//
// [Path] returns a private copy of one module in the test's temporary
// directory, so no two tests ever load the same file, and [Dir] puts
// several modules in one directory. Each module is compiled at most once
// per test binary, with the C compiler found by modbuild.FindCompiler; a
// missing compiler fails the test with instructions rather than skipping
// it.
//
// When the environment variable MEMLINK_TEST_MODULES names a directory
// (use an absolute path: go test runs each package in its own directory),
// modules are copied from there (as <name><ext>, for example echo.so)
// instead of being compiled. This is for running tests where no compiler
// is available, such as under an emulator.
//
// Packages that use modtest should call [Main] from TestMain, so that the
// compiled modules are deleted when the tests finish:
//
//	func TestMain(m *testing.M) { modtest.Main(m) }
package modtest
