package shm

import "fmt"

// childRoleEnv names the role a re-executed test binary plays.
const childRoleEnv = "WEFT_SHM_TEST_CHILD"

// runChild plays one child role and returns when it is done.
func runChild(role string) error {
	switch role {
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}
