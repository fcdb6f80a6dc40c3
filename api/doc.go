// Package api holds the JSON shapes of raftkv's HTTP API v1: the bodies
// that package httpapi reads and writes and package client sends and
// decodes, written once so that server and client cannot drift apart. It
// imports the standard library only, so a program that speaks the API
// (the client) pulls in nothing of the node.
//
// Values are []byte, which encoding/json writes and reads as standard
// base64 (like etcd's JSON gateway). Keys are JSON strings when they are
// valid UTF-8, and otherwise go in base64 in a field of their own
// ("key_base64" for "key", "range_end_base64" for "range_end"): see
// SplitKey. KeyValue.KeyBytes gives a key back whichever field carries
// it. Every answer
// that knows the store revision has it in its JSON "revision" field and in
// the HeaderRevision header. The routes, their query parameters and error
// codes are listed with httpapi.V1Prefix.
//
// # Usage
//
//	resp, err := http.Get(base + "/v1/kv/greeting")
//	...
//	var got api.GetReply
//	err = json.NewDecoder(resp.Body).Decode(&got) // got.KV.KeyBytes(), got.KV.Value, got.KV.ModRevision
package api
