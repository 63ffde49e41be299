//go:build linux

// Package gopluginbench compares a memlink call to a module isolated in a
// worker process with the same call in process and with a hashicorp
// go-plugin (net/rpc) echo, in one benchmark run. It is a module of its
// own so that go-plugin and its dependencies never enter memlink-go's
// go.mod:
//
//	cd internal/isolate/gopluginbench && go test -bench . -count 6
package gopluginbench

import (
	"bytes"
	"net/rpc"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/memlink/memlink-go/internal/modtest"
	"github.com/memlink/memlink-go/memlink"
)

// The go-plugin side: an echo service over net/rpc, served by this test
// binary started again as the plugin.

var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "MEMLINK_GOPLUGIN_BENCH",
	MagicCookieValue: "echo",
}

// Echoer is the plugin's interface.
type Echoer interface {
	Echo(args []byte) ([]byte, error)
}

type echoImpl struct{}

func (echoImpl) Echo(args []byte) ([]byte, error) { return args, nil }

// echoRPC is the host's stub.
type echoRPC struct{ c *rpc.Client }

func (e *echoRPC) Echo(args []byte) ([]byte, error) {
	var out []byte
	err := e.c.Call("Plugin.Echo", args, &out)
	return out, err
}

// EchoServer is the plugin's net/rpc receiver.
type EchoServer struct{ Impl Echoer }

// Echo answers one call.
func (s *EchoServer) Echo(args []byte, out *[]byte) error {
	r, err := s.Impl.Echo(args)
	*out = r
	return err
}

type echoPlugin struct{ impl Echoer }

func (p *echoPlugin) Server(*plugin.MuxBroker) (any, error) { return &EchoServer{Impl: p.impl}, nil }

func (p *echoPlugin) Client(_ *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return &echoRPC{c: c}, nil
}

func TestMain(m *testing.M) {
	if os.Getenv(handshake.MagicCookieKey) == handshake.MagicCookieValue {
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: handshake,
			Plugins:         map[string]plugin.Plugin{"echo": &echoPlugin{impl: echoImpl{}}},
		})
		os.Exit(0)
	}
	modtest.Main(m)
}

// startPlugin starts the go-plugin echo and returns its stub and pid.
func startPlugin(tb testing.TB) (Echoer, int) {
	tb.Helper()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          map[string]plugin.Plugin{"echo": &echoPlugin{}},
		Cmd:              exec.Command(os.Args[0]),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           hclog.NewNullLogger(),
	})
	tb.Cleanup(client.Kill)
	rpcClient, err := client.Client()
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := rpcClient.Dispense("echo")
	if err != nil {
		tb.Fatal(err)
	}
	return raw.(Echoer), client.ReattachConfig().Pid
}

// BenchmarkEcho64 is one 64-byte echo: in process, isolated in a memlink
// worker, and through a go-plugin net/rpc plugin.
func BenchmarkEcho64(b *testing.B) {
	args := bytes.Repeat([]byte{'x'}, 64)
	rt := memlink.New()
	b.Cleanup(func() { rt.Close() })
	local, err := rt.Load(memlink.MustParseRef(modtest.Path(b, "echo")))
	if err != nil {
		b.Fatal(err)
	}
	isolated, err := rt.Load(memlink.MustParseRef(modtest.Path(b, "echo")), memlink.WithIsolation(memlink.Isolation{}))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    memlink.Handle
	}{{"memlink-inprocess", local}, {"memlink-isolated", isolated}} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				out, err := rt.CallAppend(dst[:0], c.h, "process", args)
				if err != nil || len(out) != 64 {
					b.Fatal(len(out), err)
				}
			}
		})
	}
	b.Run("goplugin-netrpc", func(b *testing.B) {
		echo, _ := startPlugin(b)
		b.ReportAllocs()
		for b.Loop() {
			out, err := echo.Echo(args)
			if err != nil || len(out) != 64 {
				b.Fatal(len(out), err)
			}
		}
	})
}

// rss describes a process's resident memory from /proc: the total, and
// the anonymous part (its own), apart from file pages (shared with every
// process that maps the same binary and libraries).
func rss(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 {
			v[f[0]] = f[1]
		}
	}
	return v["VmRSS:"] + " KiB (anonymous " + v["RssAnon:"] + " KiB, file " + v["RssFile:"] + " KiB)"
}

// TestFootprint reports the resident memory of a memlink worker and of a
// go-plugin plugin process, each after 1,000 echo calls.
func TestFootprint(t *testing.T) {
	rt := memlink.New()
	defer rt.Close()
	h, err := rt.Load(memlink.MustParseRef(modtest.Path(t, "echo")), memlink.WithIsolation(memlink.Isolation{}))
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := rt.Call(h, "process", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	echo, pluginPid := startPlugin(t)
	for range 1000 {
		if _, err := echo.Echo([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	workerPid := workerOf(t)
	t.Logf("resident memory: memlink worker %s; go-plugin plugin %s", rss(t, workerPid), rss(t, pluginPid))
}

// workerOf finds the memlink worker among this process's children by its
// command line.
func workerOf(t *testing.T) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		if strings.HasPrefix(string(cmd), "memlink-worker") && len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) {
			return pid
		}
	}
	t.Fatal("no memlink worker found")
	return 0
}
