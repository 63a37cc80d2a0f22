exports.handler = async () => ({ swept: 0 });
