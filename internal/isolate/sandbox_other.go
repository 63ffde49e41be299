//go:build !unix

package isolate

// sandboxExit has nothing to explain where there is no sandbox (package
// memlink refuses Isolation.Sandbox outside Linux).
func sandboxExit(cfg *Config, ex *Exit, mem []byte) {}
