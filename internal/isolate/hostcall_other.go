//go:build !unix

package isolate

// LogsLost counts log records a worker could not deliver; there are no
// workers here.
func (c *Client) LogsLost() uint64 { return 0 }
