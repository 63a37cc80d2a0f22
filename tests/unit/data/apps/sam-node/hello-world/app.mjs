export const lambdaHandler = async (event, context) => {
  return { statusCode: 200, body: JSON.stringify({ greeting: "hello from node" }) };
};
