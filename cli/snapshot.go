package cli

// snapshotCommands are the commands on backups (snapshot save, snapshot
// restore).
func snapshotCommands() []*command { return nil }
