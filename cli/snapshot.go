package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/internal/fsutil"
	"github.com/raftkv/raftkv/node"
)

// snapshotCommands are the commands on backups (snapshot save, status,
// restore).
func snapshotCommands() []*command {
	return []*command{
		{name: "snapshot save", args: "FILE", minArgs: 1, maxArgs: 1, setup: snapshotSaveCmd,
			summary: "save a backup of the store to FILE: every write acknowledged before it, with a checksum",
			help: "The member streams a backup (GET /v1/snapshot) into FILE.part, which is synced,\n" +
				"verified and only then renamed FILE (replacing it). --timeout bounds the wait\n" +
				"for the member and each stall of the stream, not the whole download.\n" +
				"Exit 3 if no member could serve it, 1 if it could not be saved or does not verify."},
		{name: "snapshot status", args: "FILE", minArgs: 1, maxArgs: 1, setup: snapshotStatusCmd, local: true,
			summary: "verify backup FILE and print what it holds: revision, keys, index, when it was taken (exit 1 if it does not verify)"},
		{name: "snapshot restore", args: "FILE", minArgs: 1, maxArgs: 1, setup: snapshotRestoreCmd, local: true,
			summary: "verify backup FILE and seed from it the data dir of one member of a new cluster",
			help: "Run it once per member of the new cluster, each with its own --id and --data-dir\n" +
				"and the same FILE and --cluster; then start each member with that --id,\n" +
				"--cluster and --data-dir, without --join. The new cluster holds the backup's\n" +
				"keys with their values, versions and revisions, and its next write gets the\n" +
				"backup's revision + 1. Its membership is --cluster, under a new cluster id;\n" +
				"alarms and the ids of applied requests are not kept.\n" +
				"Exit 1 if FILE does not verify or the data dir is not empty (nothing is written)."},
	}
}

// backupInfo is what snapshot save and snapshot status print about a
// backup (-o json prints it as it is).
type backupInfo struct {
	File string `json:"file"`
	// Size is the size of the file in bytes.
	Size     int64  `json:"size"`
	Revision int64  `json:"revision"`
	Keys     uint64 `json:"keys"`
	// Index and Term are the applied index, and its term, of the member
	// that took it; ClusterID its cluster (hex), Member its id.
	Index     uint64 `json:"index"`
	Term      uint64 `json:"term"`
	ClusterID string `json:"cluster_id"`
	Member    uint64 `json:"member"`
	// Taken is when it was taken, RFC 3339 to the nanosecond in UTC;
	// empty if unknown.
	Taken  string `json:"taken,omitempty"`
	SHA256 string `json:"sha256"`
}

// infoOf is what a backup's header says, with its file's name and size.
func infoOf(file string, size int64, h backup.Header) backupInfo {
	info := backupInfo{
		File: file, Size: size, Revision: h.Revision, Keys: h.Keys, Index: h.Index, Term: h.Term,
		ClusterID: fmt.Sprintf("%016x", h.ClusterID), Member: h.Member, SHA256: hex.EncodeToString(h.Checksum[:]),
	}
	if !h.Taken.IsZero() {
		info.Taken = h.Taken.UTC().Format(time.RFC3339Nano)
	}
	return info
}

// writeInfo writes info as name and value lines, for people.
func writeInfo(w io.Writer, info backupInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, line := range [][2]string{
		{"file", info.File},
		{"revision", fmt.Sprint(info.Revision)},
		{"keys", fmt.Sprint(info.Keys)},
		{"size", fmt.Sprintf("%d bytes", info.Size)},
		{"index", fmt.Sprint(info.Index)},
		{"term", fmt.Sprint(info.Term)},
		{"cluster id", info.ClusterID},
		{"member", fmt.Sprint(info.Member)},
		{"taken", orDash(info.Taken)},
		{"sha256", info.SHA256},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", line[0], line[1])
	}
	return tw.Flush()
}

func snapshotStatusCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, args []string) error {
		info, err := verifyBackup(args[0])
		if err != nil {
			return &exitError{ExitFailed, err}
		}
		if e.json() {
			return e.printJSON(info)
		}
		return writeInfo(e.stdout, info)
	}
}

// verifyBackup reads the backup file and verifies it whole (backup.ReadFile).
func verifyBackup(file string) (backupInfo, error) {
	h, _, err := backup.ReadFile(file)
	if err != nil {
		return backupInfo{}, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return backupInfo{}, fmt.Errorf("backup %s: %w", file, err)
	}
	return infoOf(file, fi.Size(), h), nil
}

func snapshotSaveCmd(fs *flag.FlagSet) func(*env, []string) error {
	serializable := fs.Bool("serializable", false,
		"take it from the member's own state, without a round of the cluster: possibly stale, but it works without a quorum (to rescue the data of a cluster that lost it)")
	return func(e *env, args []string) error {
		var opts []client.OpOption
		if *serializable {
			opts = append(opts, client.WithSerializable())
		}
		info, err := saveBackup(e.client, args[0], e.timeout, opts)
		if err != nil {
			return err
		}
		if e.json() {
			return e.printJSON(info)
		}
		_, err = fmt.Fprintf(e.stdout, "saved %s: revision %d, %s, %d bytes (member %d at index %d, taken %s)\n",
			info.File, info.Revision, countOf(int(info.Keys), "key"), info.Size, info.Member, info.Index, orDash(info.Taken))
		return err
	}
}

// saveBackup downloads a backup into file: into file.part, which it syncs
// and verifies, then renames file. It removes file.part on any failure.
// stall bounds the wait for the member's answer and each wait for the
// next bytes of the stream. Its errors carry their exit code: that of the
// client's error, ExitUnavailable for a stream that broke off or stalled,
// ExitFailed for a file that could not be written or does not verify.
func saveBackup(c *client.Client, file string, stall time.Duration, opts []client.OpOption) (info backupInfo, err error) {
	part := file + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return info, &exitError{ExitFailed, fmt.Errorf("create %s: %w", part, err)}
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(part)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch := newStallWatch(stall, cancel)
	defer watch.stop()
	body, err := c.Snapshot(ctx, opts...)
	if err != nil {
		return info, watch.explain(err)
	}
	defer body.Close()
	src := &watchedReader{r: body, watch: watch}
	n, err := io.Copy(f, src)
	switch {
	case err != nil && src.err != nil:
		return info, &exitError{ExitUnavailable, fmt.Errorf("the backup stream broke off after %d bytes: %w", n, watch.explain(err))}
	case err != nil:
		return info, &exitError{ExitFailed, fmt.Errorf("write %s: %w", part, err)}
	}
	watch.stop()
	if err := f.Sync(); err != nil {
		return info, &exitError{ExitFailed, fmt.Errorf("sync %s: %w", part, err)}
	}
	if err := f.Close(); err != nil {
		return info, &exitError{ExitFailed, fmt.Errorf("close %s: %w", part, err)}
	}
	if info, err = verifyBackup(part); err != nil {
		return info, &exitError{ExitFailed, fmt.Errorf("the backup received does not verify: %w", err)}
	}
	if err := os.Rename(part, file); err != nil {
		return info, &exitError{ExitFailed, fmt.Errorf("rename %s: %w", part, err)}
	}
	if err := fsutil.SyncDir(filepath.Dir(file)); err != nil {
		return info, &exitError{ExitFailed, err}
	}
	info.File = file
	return info, nil
}

// stallWatch cancels a download that makes no progress for d: no answer,
// or no bytes of the stream, within d of the last.
type stallWatch struct {
	d     time.Duration
	timer *time.Timer
	fired atomic.Bool
}

func newStallWatch(d time.Duration, cancel context.CancelFunc) *stallWatch {
	w := &stallWatch{d: d}
	w.timer = time.AfterFunc(d, func() {
		w.fired.Store(true)
		cancel()
	})
	return w
}

// progress restarts the wait.
func (w *stallWatch) progress() { w.timer.Reset(w.d) }

// stop ends the watch.
func (w *stallWatch) stop() { w.timer.Stop() }

// explain is err, or, when the watch canceled the download, an error that
// says so, with ExitUnavailable.
func (w *stallWatch) explain(err error) error {
	if w.fired.Load() && errors.Is(err, context.Canceled) {
		return &exitError{ExitUnavailable, fmt.Errorf("nothing from the cluster for %v (--timeout): %w", w.d, err)}
	}
	return err
}

// watchedReader reads r, tells watch of each progress, and keeps r's
// error.
type watchedReader struct {
	r     io.Reader
	watch *stallWatch
	err   error
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.watch.progress()
	}
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// restoreFlags are the flags of snapshot restore.
type restoreFlags struct {
	dataDir, cluster string
	id               uint64
}

func snapshotRestoreCmd(fs *flag.FlagSet) func(*env, []string) error {
	var f restoreFlags
	fs.StringVar(&f.dataDir, "data-dir", "", "the new member's data `DIR`: it must not exist, or be empty (required)")
	fs.Uint64Var(&f.id, "id", 0, "the new member's `ID`, as it will be started with (required)")
	fs.StringVar(&f.cluster, "cluster", "",
		"every member of the new cluster, as the member's --cluster: comma-separated peer `ADDRESSES` (member i is entry i) or id=host:port each (required)")
	return func(e *env, args []string) error {
		cfg, err := f.config(args[0])
		if err != nil {
			return err
		}
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		r, err := backup.Restore(cfg)
		if err != nil {
			return &exitError{ExitFailed, err}
		}
		if e.json() {
			return e.printJSON(restoredInfoOf(cfg, r))
		}
		_, err = fmt.Fprintf(e.stdout, "restored %s (revision %d, %s) into %s: member %d of a new cluster of %s, cluster id %016x\n"+
			"start it with the same --id and --cluster, without --join: raftkv --id %d --cluster %s --data-dir %s\n",
			cfg.File, r.Backup.Revision, countOf(int(r.Backup.Keys), "key"), cfg.DataDir, cfg.ID, countOf(r.Members, "member"), r.ClusterID, cfg.ID, f.cluster, cfg.DataDir)
		return err
	}
}

// config checks the flags of snapshot restore and returns what to restore
// (without a logger); its errors are usage errors.
func (f restoreFlags) config(file string) (backup.RestoreConfig, error) {
	var missing []string
	for _, m := range []struct {
		name  string
		unset bool
	}{{"--data-dir", f.dataDir == ""}, {"--id", f.id == 0}, {"--cluster", strings.TrimSpace(f.cluster) == ""}} {
		if m.unset {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return backup.RestoreConfig{}, usageErrorf("missing %s: a restore needs the new member's data dir and id, and every member of the new cluster",
			strings.Join(missing, ", "))
	}
	cluster, err := node.ParseCluster(strings.Split(f.cluster, ","))
	if err != nil {
		return backup.RestoreConfig{}, usageErrorf("--cluster: %v", err)
	}
	if _, ok := cluster[f.id]; !ok {
		return backup.RestoreConfig{}, usageErrorf("--id %d is not a member of --cluster (%d members)", f.id, len(cluster))
	}
	return backup.RestoreConfig{File: file, DataDir: f.dataDir, ID: f.id, Cluster: cluster}, nil
}

// restoredInfo is what snapshot restore -o json prints.
type restoredInfo struct {
	File    string `json:"file"`
	DataDir string `json:"data_dir"`
	ID      uint64 `json:"id"`
	// ClusterID is the new cluster's id (hex), Members its size.
	ClusterID string `json:"cluster_id"`
	Members   int    `json:"members"`
	// Revision and Keys are the backup's; Index is that of the snapshot
	// the member starts from.
	Revision int64  `json:"revision"`
	Keys     uint64 `json:"keys"`
	Index    uint64 `json:"index"`
	SHA256   string `json:"sha256"`
}

func restoredInfoOf(cfg backup.RestoreConfig, r backup.Restored) restoredInfo {
	return restoredInfo{
		File: cfg.File, DataDir: cfg.DataDir, ID: cfg.ID, ClusterID: fmt.Sprintf("%016x", r.ClusterID), Members: r.Members,
		Revision: r.Backup.Revision, Keys: r.Backup.Keys, Index: r.Index, SHA256: hex.EncodeToString(r.Backup.Checksum[:]),
	}
}
