package memlink_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/memlink/memlink-go/memlink"
)

// A module you do not trust runs in a worker confined to what it is
// granted: here, reading time zones and writing its own state directory,
// with no sockets and no new processes.
func ExampleSandbox() {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef("./plugins/pricing.so"), memlink.WithIsolation(memlink.Isolation{
		CallTimeout: time.Second,
		Sandbox: &memlink.Sandbox{
			Read:  []string{"/usr/share/zoneinfo"},
			Write: []string{"/var/lib/pricing"},
		},
	}))
	if errors.Is(err, memlink.ErrSandboxUnsupported) {
		fmt.Println("this kernel cannot confine the module:", err)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, _ := rt.SandboxReport(h)
	fmt.Println("Landlock ABI", rep.LandlockABI, "seccomp", rep.Seccomp, "complete", rep.Complete())
}
