//! SQS's JSON protocol over the wire: `ferrule serve` is started on a free
//! port and spoken to with plain HTTP/1.1 requests, as an SDK would.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running server, stopped (and its data removed) when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("ferrule-sqs-wire-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new(env!("CARGO_BIN_EXE_ferrule"))
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ferrule serve");
        let server = Server { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if server
                .request("GET", "/health", &[], "")
                .is_some_and(|a| a.status == 200)
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ferrule serve did not answer /health");
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<Answer> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut text = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(body);
        stream.write_all(text.as_bytes()).ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (head, body) = raw.split_once("\r\n\r\n")?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(Answer {
            status,
            headers,
            body: serde_json::from_str(body).unwrap_or(Value::Null),
        })
    }

    fn sqs(&self, operation: &str, input: Value) -> Answer {
        let target = format!("AmazonSQS.{operation}");
        self.request(
            "POST",
            "/",
            &[
                ("X-Amz-Target", &target),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            &input.to_string(),
        )
        .expect("an answer")
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}

#[test]
fn a_queue_over_the_wire() {
    let server = Server::start();

    let created = server.sqs("CreateQueue", json!({"QueueName": "wire"}));
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/x-amz-json-1.0")
    );
    let url = created.body["QueueUrl"]
        .as_str()
        .expect("a queue url")
        .to_string();
    assert!(url.ends_with("/wire"), "{url}");
    let again = server.sqs("CreateQueue", json!({"QueueName": "wire"}));
    assert_eq!(
        again.body["QueueUrl"],
        url.as_str(),
        "CreateQueue is idempotent"
    );
    let got = server.sqs("GetQueueUrl", json!({"QueueName": "wire"}));
    assert_eq!(got.body["QueueUrl"], url.as_str());
    let listed = server.sqs("ListQueues", json!({"QueueNamePrefix": "wi"}));
    assert_eq!(listed.body["QueueUrls"], json!([url]));

    // A missing queue: the JSON error and the query-compatible header.
    let missing = server.sqs("GetQueueUrl", json!({"QueueName": "absent"}));
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.body["__type"],
        "com.amazonaws.sqs#QueueDoesNotExist"
    );
    assert_eq!(
        missing.header("x-amzn-query-error"),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    let fifo = server.sqs("CreateQueue", json!({"QueueName": "jobs.fifo"}));
    assert_eq!(fifo.status, 400);
    assert_eq!(
        fifo.header("x-amzn-query-error"),
        Some("InvalidParameterValue;Sender")
    );

    let sent = server.sqs(
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "héllo"}),
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["MD5OfMessageBody"], md5_hex("héllo".as_bytes()));
    let message_id = sent.body["MessageId"].clone();

    let received = server.sqs(
        "ReceiveMessage",
        json!({
            "QueueUrl": url,
            "MaxNumberOfMessages": 10,
            "VisibilityTimeout": 1,
            "MessageSystemAttributeNames": ["All"],
        }),
    );
    let messages = received.body["Messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    let first = &messages[0];
    assert_eq!(first["MessageId"], message_id);
    assert_eq!(first["Body"], "héllo");
    assert_eq!(first["MD5OfBody"], md5_hex("héllo".as_bytes()));
    assert_eq!(first["Attributes"]["ApproximateReceiveCount"], "1");
    assert!(first["Attributes"]["SentTimestamp"].is_string());
    let stale = first["ReceiptHandle"].as_str().unwrap().to_string();

    // Invisible until its visibility timeout passes.
    let none = server.sqs("ReceiveMessage", json!({"QueueUrl": url}));
    assert_eq!(none.status, 200);
    assert!(none.body.get("Messages").is_none(), "{}", none.body);
    let counts = server.sqs(
        "GetQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["All"]}),
    );
    assert_eq!(
        counts.body["Attributes"]["ApproximateNumberOfMessages"],
        "0"
    );
    assert_eq!(
        counts.body["Attributes"]["ApproximateNumberOfMessagesNotVisible"],
        "1"
    );
    assert!(
        counts.body["Attributes"]["QueueArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:sqs:") && a.ends_with(":wire"))
    );

    // A long poll gets it again once visible, with a new handle.
    let started = Instant::now();
    let again = server.sqs(
        "ReceiveMessage",
        json!({"QueueUrl": url, "WaitTimeSeconds": 5, "AttributeNames": ["ApproximateReceiveCount"]}),
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    let second = &again.body["Messages"][0];
    assert_eq!(second["MessageId"], message_id);
    assert_eq!(second["Attributes"]["ApproximateReceiveCount"], "2");
    let current = second["ReceiptHandle"].as_str().unwrap().to_string();
    assert_ne!(current, stale);

    let refused = server.sqs(
        "DeleteMessage",
        json!({"QueueUrl": url, "ReceiptHandle": stale}),
    );
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.header("x-amzn-query-error"),
        Some("ReceiptHandleIsInvalid;Sender")
    );
    let deleted = server.sqs(
        "DeleteMessage",
        json!({"QueueUrl": url, "ReceiptHandle": current}),
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);

    // An empty long poll waits, then answers without `Messages`.
    let started = Instant::now();
    let empty = server.sqs(
        "ReceiveMessage",
        json!({"QueueUrl": url, "WaitTimeSeconds": 1, "VisibilityTimeout": 0}),
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(empty.body, json!({}));

    let unsupported = server.sqs("TagQueue", json!({"QueueUrl": url}));
    assert_eq!(unsupported.status, 400);
    assert_eq!(
        unsupported.body["__type"],
        "com.amazonaws.sqs#UnsupportedOperation"
    );

    let gone = server.sqs("DeleteQueue", json!({"QueueUrl": url}));
    assert_eq!(gone.status, 200);
    let after = server.sqs("SendMessage", json!({"QueueUrl": url, "MessageBody": "x"}));
    assert_eq!(after.body["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
}
