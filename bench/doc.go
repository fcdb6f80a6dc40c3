// Package bench compares raftkv with etcd on one machine, in one run: it
// starts a three-member cluster of each (every member its own process,
// data on disk with fsync, on loopback), drives both at their leader with
// the same workloads through each one's own client (raftkv's HTTP API
// through fasthttp's client, FastClient, or net/http's, HTTPClient; etcd
// through clientv3), in alternating rounds, and reports throughput,
// latency percentiles, server and client CPU per operation, peak memory
// and disk per member, and the raftkv/etcd ratios as the
// median over rounds with their spread. It writes a CSV of every
// measurement and SVG plots.
//
// cmd/raftkv-bench is its command line; the etcd members are that same
// binary, re-executed with the hidden subcommand etcd-member (see
// EtcdMemberMain).
package bench
