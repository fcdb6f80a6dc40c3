// Package api holds the JSON shapes of raftkv's HTTP API v1: the bodies
// that package httpapi reads and writes and package client sends and
// decodes, written once so that server and client cannot drift apart. It
// imports the standard library only, so a program that speaks the API
// (the client) pulls in nothing of the node.
//
// Values are []byte, which encoding/json writes and reads as standard
// base64 (like etcd's JSON gateway); keys are plain strings. Every answer
// that knows the store revision has it in its JSON "revision" field and in
// the HeaderRevision header. The routes, their query parameters and error
// codes are listed with httpapi.V1Prefix.
//
// # Usage
//
//	resp, err := http.Get(base + "/v1/kv/greeting")
//	...
//	var got api.GetReply
//	err = json.NewDecoder(resp.Body).Decode(&got) // got.KV.Value, got.KV.ModRevision
package api
