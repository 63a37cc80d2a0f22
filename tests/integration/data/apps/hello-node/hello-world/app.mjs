export const lambdaHandler = async (event, context) => {
  return {
    statusCode: 200,
    body: JSON.stringify({ message: 'hello from node', path: event.path }),
  };
};
