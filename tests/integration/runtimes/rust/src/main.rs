//! The behaviour-test handler on AWS's `lambda_runtime`. Behaviour by event "op": count (state across
//! warm calls), fail (a function error), sleep, exit, whoami, context.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static COUNT: AtomicU64 = AtomicU64::new(0);

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    let op = payload["op"].as_str().unwrap_or_default().to_string();
    eprintln!("handling {op}");
    match op.as_str() {
        "count" => Ok(json!({"count": COUNT.fetch_add(1, Ordering::SeqCst) + 1})),
        "fail" => Err("bad input".into()),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs_f64(payload["s"].as_f64().unwrap_or(0.0))).await;
            Ok(json!("slept"))
        }
        "exit" => std::process::exit(3),
        "whoami" => Ok(json!({"uid": std::fs::metadata("/proc/self")?.uid(),
                              "task_root": std::env::var("LAMBDA_TASK_ROOT")?})),
        "context" => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
            Ok(json!({"request_id": context.request_id, "function_arn": context.invoked_function_arn,
                      "remaining_ms": context.deadline.saturating_sub(now)}))
        }
        _ => Ok(json!({"echo": op})),
    }
}

/// lambda_runtime has no init-error call: report one to the Runtime API as AWS's own runtimes do.
fn fail_init() -> ! {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
    let body = r#"{"errorMessage":"init failed","errorType":"Runtime.InitError"}"#;
    if let Ok(mut stream) = std::net::TcpStream::connect(&api) {
        let _ = write!(stream, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
            Lambda-Runtime-Function-Error-Type: Runtime.InitError\r\nContent-Length: {}\r\n\
            Connection: close\r\n\r\n{body}", body.len());
        let _ = std::io::Read::read(&mut stream, &mut [0u8; 512]);
    }
    std::process::exit(1)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    if std::env::var_os("FAIL_INIT").is_some() {
        fail_init();
    }
    lambda_runtime::run(service_fn(handle)).await
}
