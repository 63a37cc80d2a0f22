// The behaviour-test handler on AWS's aws-lambda-go (lambda.Start, lambdacontext, events). Behaviour by
// event "op": count, fail, sleep, exit, whoami, context; an API Gateway HTTP API event gets its response type.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var count int

type event struct {
	Op      string  `json:"op"`
	S       float64 `json:"s"`
	RawPath string  `json:"rawPath"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	if ev.RawPath != "" {
		return httpAPI(raw)
	}
	fmt.Fprintf(os.Stderr, "handling %s\n", ev.Op)
	switch ev.Op {
	case "count":
		count++
		return map[string]int{"count": count}, nil
	case "fail":
		return nil, errors.New("bad input")
	case "sleep":
		time.Sleep(time.Duration(ev.S * float64(time.Second)))
		return "slept", nil
	case "exit":
		os.Exit(3)
	case "whoami":
		return map[string]any{"uid": os.Getuid(), "task_root": os.Getenv("LAMBDA_TASK_ROOT")}, nil
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return map[string]any{"request_id": lc.AwsRequestID, "function_arn": lc.InvokedFunctionArn,
			"remaining_ms": time.Until(deadline).Milliseconds()}, nil
	}
	return map[string]string{"echo": ev.Op}, nil
}

// httpAPI answers an API Gateway HTTP API (payload 2.0) event with the events package's own types.
func httpAPI(raw json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
	var request events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &request); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body, _ := json.Marshal(map[string]string{"path": request.RawPath, "method": request.RequestContext.HTTP.Method,
		"name": request.QueryStringParameters["name"]})
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"},
		Body: string(body)}, nil
}

// failInit reports an init error: lambda.Start has no call for one, AWS's own runtimes post it.
func failInit() {
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	body := []byte(`{"errorMessage":"init failed","errorType":"Runtime.InitError"}`)
	if resp, err := http.Post(url, "application/json", bytes.NewReader(body)); err == nil {
		resp.Body.Close()
	}
	os.Exit(1)
}

func main() {
	if os.Getenv("FAIL_INIT") != "" {
		failInit()
	}
	lambda.Start(handle)
}
