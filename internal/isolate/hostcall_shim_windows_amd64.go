package isolate

// shimUsable reports whether the entries can tell the runtime's threads
// apart: on windows/amd64 the runtime's g is reached through the TLS slot
// the runtime allocates, as the assembler reads it (and internal/hostcall.G
// with it); the slot is zero on a thread the runtime has not entered.
func shimUsable() bool { return true }
