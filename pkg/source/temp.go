package source

import (
	"fmt"
	"strconv"
	"strings"
)

// tempPrefix starts the name of every temporary file ksbuilder writes.
const tempPrefix = ".ksbuilder-tmp-"

// TempFilePattern is the os.CreateTemp pattern of a temporary file written
// by process pid on its way to becoming final (a base name):
// ".ksbuilder-tmp-<pid>-<random>-<final>". Readers never take such a file
// into an extension, and TempFileOwner tells a later run whose it was.
func TempFilePattern(pid int, final string) string {
	return fmt.Sprintf("%s%d-*-%s", tempPrefix, pid, final)
}

// IsTempFile reports whether a base name is one of ksbuilder's temporary
// files.
func IsTempFile(base string) bool { return strings.HasPrefix(base, tempPrefix) }

// TempFileOwner returns the process id in the name of a temporary file.
func TempFileOwner(base string) (pid int, ok bool) {
	rest, ok := strings.CutPrefix(base, tempPrefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}
