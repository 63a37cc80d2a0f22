// The seed's lesson in Node.js: what module scope sets up is paid once, at Init, and reused while warm.
//
// makeClient stands for a client that is slow to create (the seed's Kafka producer, which first asks a
// configuration service where the brokers are: ~400 ms). Awaited at the top level of this ES module, it
// is made during Init and shows up as `Init Duration` on the cold start; warm calls reuse it and pay
// only for their own work. (In CommonJS, a promise made at module level would finish during the first
// call instead, and that call's Duration would pay for it.)
const CONFIG_LOOKUP_SECONDS = Number(process.env.CONFIG_LOOKUP_SECONDS ?? "0.4");

async function makeClient() {
  await new Promise((resolve) => setTimeout(resolve, CONFIG_LOOKUP_SECONDS * 1000)); // the configuration-service round trip
  return { brokers: ["broker-1:9092", "broker-2:9092"], createdAt: Date.now() / 1000 };
}

const client = await makeClient();
let calls = 0;

export const handler = async () => {
  calls += 1;
  return { calls_in_this_environment: calls, cold: calls === 1, client_created_at: client.createdAt,
           brokers: client.brokers };
};
