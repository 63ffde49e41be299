//go:build !unix && !windows

package filewatch

import "os"

func fillSys(*Sig, string, os.FileInfo) {}
