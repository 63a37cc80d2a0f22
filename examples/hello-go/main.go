// hello-go: a Lambda function in Go with its own runtime loop (standard library only), deployed as
// a `provided.al2023` function whose `bootstrap` is this program. Build it with `make examples`.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
)

type event struct {
	Name string `json:"name"`
}

func handler(ev event) map[string]string {
	name := ev.Name
	if name == "" {
		name = "world"
	}
	return map[string]string{"message": fmt.Sprintf("Hello, %s from Go!", name)}
}

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "runtime API:", err)
			os.Exit(1)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil {
			failure, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "InvalidEvent"})
			post(api+id+"/error", failure)
			continue
		}
		response, _ := json.Marshal(handler(ev))
		post(api+id+"/response", response)
	}
}

func post(url string, body []byte) {
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
}
