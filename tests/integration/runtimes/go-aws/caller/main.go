// A function that invokes another with aws-sdk-go-v2's Lambda client, configured exactly as on AWS:
// LoadDefaultConfig finds the region, the function's credentials and AWS_ENDPOINT_URL_LAMBDA by itself.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

type request struct {
	Target  string          `json:"target"`
	Payload json.RawMessage `json:"payload"`
}

func handle(ctx context.Context, req request) (json.RawMessage, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	out, err := awslambda.NewFromConfig(cfg).Invoke(ctx, &awslambda.InvokeInput{
		FunctionName: aws.String(req.Target), Payload: req.Payload})
	if err != nil {
		return nil, err
	}
	return out.Payload, nil
}

func main() {
	lambda.Start(handle)
}
