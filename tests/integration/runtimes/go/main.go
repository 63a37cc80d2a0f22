// A stdlib-only Lambda runtime loop in Go, speaking the Runtime API as AWS's custom runtimes do.
// Behaviour by event "op": count (state across warm calls), fail (a function error), sleep, exit, whoami.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

var count int

type event struct {
	Op string  `json:"op"`
	S  float64 `json:"s"`
}

func handle(ev event) (interface{}, error) {
	switch ev.Op {
	case "count":
		count++
		return map[string]int{"count": count}, nil
	case "fail":
		return nil, fmt.Errorf("bad input")
	case "sleep":
		time.Sleep(time.Duration(ev.S * float64(time.Second)))
		return "slept", nil
	case "exit":
		os.Exit(3)
	case "whoami":
		return map[string]interface{}{"uid": os.Getuid(), "task_root": os.Getenv("LAMBDA_TASK_ROOT")}, nil
	}
	return map[string]string{"echo": ev.Op}, nil
}

func main() {
	if os.Getenv("FAIL_INIT") != "" {
		post(api("/init/error"), "Runtime.InitError", []byte(`{"errorMessage":"init failed","errorType":"Runtime.InitError"}`))
		os.Exit(1)
	}
	for {
		resp, err := http.Get(api("/invocation/next"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ev event
		json.Unmarshal(body, &ev)
		fmt.Fprintf(os.Stderr, "handling %s\n", ev.Op)
		if ev.Op == "stream" || ev.Op == "stream-fail" {
			stream(id, ev.Op == "stream-fail")
			continue
		}
		result, herr := handle(ev)
		if herr != nil {
			payload, _ := json.Marshal(map[string]string{"errorMessage": herr.Error(), "errorType": "HandlerError"})
			post(api("/invocation/"+id+"/error"), "HandlerError", payload)
			continue
		}
		payload, _ := json.Marshal(result)
		post(api("/invocation/"+id+"/response"), "", payload)
	}
}

// stream answers in response mode "streaming": chunks 0.3 s apart, and on failure the error as
// trailers after the last chunk, as AWS's streaming runtimes do.
func stream(id string, fail bool) {
	reader, writer := io.Pipe()
	req, _ := http.NewRequest("POST", api("/invocation/"+id+"/response"), reader)
	req.Header.Set("Lambda-Runtime-Function-Response-Mode", "streaming")
	req.ContentLength = -1
	if fail {
		req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
	}
	go func() {
		writer.Write([]byte("one "))
		time.Sleep(300 * time.Millisecond)
		writer.Write([]byte("two"))
		if fail {
			detail := `{"errorMessage":"broke mid-stream","errorType":"StreamError"}`
			req.Trailer.Set("Lambda-Runtime-Function-Error-Type", "StreamError")
			req.Trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(detail)))
		}
		writer.Close()
	}()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}

func api(path string) string {
	return "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime" + path
}

func post(url, errorType string, body []byte) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}
