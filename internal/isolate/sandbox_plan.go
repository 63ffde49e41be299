package isolate

import "github.com/memlink/memlink-go/internal/sandbox"

// Sandbox returns the plan the client's workers are confined by, or nil.
func (c *Client) Sandbox() *sandbox.Plan { return c.cfg.Sandbox }
