//! Which AWS protocol a request speaks, and the answer to requests for
//! services ferrule does not serve, in the shape that protocol's clients
//! parse.
//!
//! ferrule serves two AWS JSON services (EventBridge, `AWSEvents.*`, and
//! SQS, `AmazonSQS.*`). Any other request still gets an error its SDK can
//! read, so that botocore raises a `ClientError` that says what happened
//! instead of "invalid XML received. Further retries may succeed" (and
//! retrying):
//!
//! | request | protocol | answer |
//! |---|---|---|
//! | `X-Amz-Target: Service.Operation` | AWS JSON 1.0/1.1 | 400 JSON `UnknownOperationException` |
//! | `Smithy-Protocol: rpc-v2-cbor` | Smithy RPC v2 CBOR (CloudWatch, ...) | 400 CBOR `UnknownOperationException` |
//! | form body (or query string) with `Action=` | AWS query (IAM, CloudFormation, STS, SNS, ...) | 400 XML `InvalidAction` (`<ErrorResponse>`) |
//! | the same, signed for `ec2` | EC2 query | 400 XML `InvalidAction` (`<Response><Errors>`) |
//! | signed for `s3`, `route53`, `cloudfront` | REST-XML | 501 XML `NotImplemented` (S3's `<Error>`, or `<ErrorResponse>`) |
//! | anything else (Lambda, API Gateway, ...) | REST-JSON | 400 JSON `UnknownOperationException` |
//!
//! The service is read from the request itself: the target prefix, the
//! Smithy path, or the signing name in the SigV4 credential scope.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use serde_json::json;

/// `X-Amz-Target` prefixes ferrule serves.
pub(crate) const SERVED_TARGETS: [&str; 2] = ["AWSEvents", "AmazonSQS"];

/// What ferrule serves, said once for every "not served" message.
const SERVES: &str = "ferrule serves EventBridge (X-Amz-Target AWSEvents.*) and SQS (AmazonSQS.*) over the AWS JSON protocol";

/// Longest piece of a request quoted back in a message.
const QUOTE_MAX: usize = 100;

/// Splits `X-Amz-Target` into (service prefix, operation) at the last dot:
/// prefixes may contain dots themselves
/// (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`).
pub(crate) fn split_target(target: &str) -> (&str, &str) {
    target.rsplit_once('.').unwrap_or(("", target))
}

/// Whether ferrule serves requests with this target prefix.
pub(crate) fn is_served(service: &str) -> bool {
    SERVED_TARGETS.contains(&service)
}

/// The wire format of an error answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    /// AWS JSON 1.0/1.1 (`X-Amz-Target`).
    Json,
    /// REST-JSON (`x-amzn-ErrorType` and a JSON body).
    RestJson,
    /// Smithy RPC v2 CBOR.
    Cbor,
    /// AWS query: `<ErrorResponse><Error>...</Error><RequestId/>`.
    Query,
    /// EC2 query: `<Response><Errors><Error>...</Error></Errors><RequestID/>`.
    Ec2,
    /// S3's REST-XML: `<Error>...</Error>` at the root.
    S3,
    /// Other REST-XML services (Route 53, CloudFront): `<ErrorResponse>`.
    RestXml,
}

/// A request for a service or operation ferrule does not serve.
#[derive(Clone, Debug)]
pub(crate) struct Unserved {
    /// How to answer.
    pub(crate) wire: Wire,
    /// HTTP status.
    pub(crate) status: u16,
    /// The error code (`__type`, `<Code>`).
    pub(crate) code: &'static str,
    /// The message.
    pub(crate) message: String,
}

/// Classifies a request that does not name a served `X-Amz-Target` and
/// builds the error to answer it with.
pub(crate) fn unserved(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Unserved {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scope = signing_service(headers, uri);
    if let Some(target) = header("x-amz-target").filter(|t| !t.is_empty()) {
        let (service, operation) = split_target(target);
        let message = if service.is_empty() {
            format!(
                "X-Amz-Target {} does not name a service and an operation (Service.Operation); {SERVES}.",
                quote(target)
            )
        } else {
            format!(
                "ferrule does not serve {} (operation {}); {SERVES}.",
                quote(service),
                quote(operation)
            )
        };
        return json_family(Wire::Json, message);
    }
    if header("smithy-protocol").is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor")) {
        // The path is /service/{ServiceName}/operation/{OperationName}.
        let mut parts = uri.path().split('/').filter(|s| !s.is_empty());
        let (service, operation) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("service"), Some(s), Some("operation"), Some(o)) => (s, o),
            _ => (scope.as_deref().unwrap_or("?"), uri.path()),
        };
        return json_family(
            Wire::Cbor,
            format!(
                "ferrule does not serve {} (operation {}); {SERVES}.",
                quote(service),
                quote(operation)
            ),
        );
    }
    if let Some(action) = query_action(uri, headers, body) {
        let service = scope.as_deref().map_or_else(
            || "the AWS query protocol".to_string(),
            |s| display_name(s).to_string(),
        );
        let wire = if scope.as_deref() == Some("ec2") {
            Wire::Ec2
        } else {
            Wire::Query
        };
        let message = if scope.as_deref() == Some("sqs") {
            // Older SDKs speak SQS's query protocol.
            format!(
                "ferrule serves SQS over the AWS JSON protocol only (X-Amz-Target AmazonSQS.*), not the query protocol (Action {}): use a current SDK.",
                quote(&action)
            )
        } else {
            format!(
                "ferrule does not serve {service} (Action {}); {SERVES}.",
                quote(&action)
            )
        };
        return Unserved {
            wire,
            status: 400,
            code: "InvalidAction",
            message,
        };
    }
    let request = format!("{method} {}", quote(uri.path()));
    match scope.as_deref() {
        Some(s @ ("s3" | "s3-object-lambda" | "s3control" | "route53" | "cloudfront")) => {
            Unserved {
                wire: if s == "route53" || s == "cloudfront" {
                    Wire::RestXml
                } else {
                    Wire::S3
                },
                // 501, not 5xx-retryable 500/502/503/504: SDKs do not retry it.
                status: 501,
                code: "NotImplemented",
                message: format!(
                    "ferrule does not serve {} ({request}); {SERVES}.",
                    display_name(s)
                ),
            }
        }
        Some(s) => json_family(
            Wire::RestJson,
            format!(
                "ferrule does not serve {} ({request}); {SERVES}.",
                display_name(s)
            ),
        ),
        None => json_family(
            Wire::RestJson,
            format!("The request ({request}) has no X-Amz-Target header; {SERVES}."),
        ),
    }
}

fn json_family(wire: Wire, message: String) -> Unserved {
    Unserved {
        wire,
        status: 400,
        code: "UnknownOperationException",
        message,
    }
}

impl Unserved {
    /// The response, with `request_id` in the protocol's place.
    pub(crate) fn into_response(self, request_id: &str) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let (content_type, body): (&'static str, Vec<u8>) = match self.wire {
            Wire::Json => (
                "application/x-amz-json-1.1",
                json!({"__type": self.code, "message": self.message})
                    .to_string()
                    .into_bytes(),
            ),
            Wire::RestJson => (
                "application/json",
                json!({"__type": self.code, "message": self.message})
                    .to_string()
                    .into_bytes(),
            ),
            Wire::Cbor => ("application/cbor", cbor_error(self.code, &self.message)),
            Wire::Query | Wire::RestXml => (
                "text/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                    self.code,
                    xml_escape(&self.message),
                    xml_escape(request_id)
                )
                .into_bytes(),
            ),
            Wire::Ec2 => (
                "text/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
                    self.code,
                    xml_escape(&self.message),
                    xml_escape(request_id)
                )
                .into_bytes(),
            ),
            Wire::S3 => (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
                    self.code,
                    xml_escape(&self.message),
                    xml_escape(request_id)
                )
                .into_bytes(),
            ),
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let h = response.headers_mut();
        h.insert("content-type", HeaderValue::from_static(content_type));
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        if self.wire == Wire::Cbor {
            h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
        }
        if let Ok(v) = HeaderValue::from_str(request_id) {
            if self.wire == Wire::S3 {
                h.insert("x-amz-request-id", v.clone());
            }
            h.insert("x-amzn-requestid", v);
        }
        response
    }
}

/// An AWS JSON error response (`{"__type", "message"}` and
/// `x-amzn-ErrorType`), for errors of the HTTP layer itself.
pub(crate) fn json_error(status: StatusCode, code: &'static str, message: &str) -> Response<Body> {
    let body = json!({"__type": code, "message": message}).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    h.insert("x-amzn-errortype", HeaderValue::from_static(code));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

/// The signing name in the SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), from the
/// Authorization header or a presigned URL's `X-Amz-Credential`.
fn signing_service(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let from_credential = |credential: &str| {
        let mut parts = credential.trim().split('/');
        let service = parts.nth(3)?;
        (!service.is_empty()).then(|| service.to_ascii_lowercase())
    };
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok())
        && let Some((_, params)) = auth.trim().split_once(' ')
    {
        for param in params.split(',') {
            if let Some(("Credential", value)) = param.trim().split_once('=') {
                return from_credential(value);
            }
        }
    }
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "X-Amz-Credential")
        .and_then(|(_, v)| from_credential(&v))
}

/// The `Action` of a query-protocol request: a form-encoded body (what the
/// SDKs send) or, for hand-made requests, the query string.
fn query_action(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let find = |bytes: &[u8]| {
        form_urlencoded::parse(bytes)
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned())
    };
    if form && let Some(action) = find(body) {
        return Some(action);
    }
    uri.query().and_then(|q| find(q.as_bytes()))
}

/// The service's usual name, for messages.
fn display_name(signing_name: &str) -> &str {
    match signing_name {
        "iam" => "IAM",
        "cloudformation" => "CloudFormation",
        "sts" => "STS",
        "sns" => "SNS",
        "s3" | "s3control" | "s3-object-lambda" => "S3",
        "ec2" => "EC2",
        "lambda" => "Lambda",
        "monitoring" => "CloudWatch",
        "logs" => "CloudWatch Logs",
        "dynamodb" => "DynamoDB",
        "kinesis" => "Kinesis",
        "states" => "Step Functions",
        "scheduler" => "EventBridge Scheduler",
        "route53" => "Route 53",
        "cloudfront" => "CloudFront",
        "apigateway" | "execute-api" => "API Gateway",
        "rds" => "RDS",
        "autoscaling" => "Auto Scaling",
        "elasticloadbalancing" => "Elastic Load Balancing",
        "ses" | "email" => "SES",
        other => other,
    }
}

/// Part of the request quoted in a message: bounded, control characters
/// replaced, in quotes.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(QUOTE_MAX) + 2);
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        if i == QUOTE_MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out.push('"');
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `{"__type": code, "message": message}` as CBOR (RFC 8949): a map of
/// two text strings, all the Smithy RPC v2 error shape needs.
fn cbor_error(code: &str, message: &str) -> Vec<u8> {
    fn text(out: &mut Vec<u8>, s: &str) {
        let len = s.len();
        // Major type 3 (text string) with the length as its argument.
        if len < 24 {
            out.push(0x60 | len as u8);
        } else if let Ok(l) = u8::try_from(len) {
            out.extend([0x78, l]);
        } else if let Ok(l) = u16::try_from(len) {
            out.push(0x79);
            out.extend(l.to_be_bytes());
        } else {
            out.push(0x7a);
            out.extend(u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
        }
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = vec![0xa2]; // a map (major type 5) of two pairs
    text(&mut out, "__type");
    text(&mut out, code);
    text(&mut out, "message");
    text(&mut out, message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const AUTH_IAM: &str = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00";

    #[test]
    fn targets_split_at_the_last_dot() {
        assert_eq!(
            split_target("AWSEvents.PutEvents"),
            ("AWSEvents", "PutEvents")
        );
        assert_eq!(
            split_target("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
            (
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
                "LookupEvents"
            )
        );
        assert_eq!(split_target("NoDot"), ("", "NoDot"));
        assert!(is_served("AWSEvents") && is_served("AmazonSQS") && !is_served("AWSEventsX"));
    }

    #[test]
    fn an_unknown_json_target_names_service_and_operation() {
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[("x-amz-target", "DynamoDB_20120810.GetItem")]),
            b"{}",
        );
        assert_eq!(
            (u.wire, u.status, u.code),
            (Wire::Json, 400, "UnknownOperationException")
        );
        assert!(
            u.message.contains("\"DynamoDB_20120810\"") && u.message.contains("\"GetItem\""),
            "{}",
            u.message
        );
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[("x-amz-target", "Nonsense")]),
            b"",
        );
        assert!(
            u.message.contains("does not name a service"),
            "{}",
            u.message
        );
    }

    #[test]
    fn query_requests_get_the_query_error_shape() {
        let h = headers(&[
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("authorization", AUTH_IAM),
        ]);
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=List%55sers&Version=2010-05-08",
        );
        assert_eq!(
            (u.wire, u.status, u.code),
            (Wire::Query, 400, "InvalidAction")
        );
        assert!(
            u.message.contains("IAM") && u.message.contains("\"ListUsers\""),
            "{}",
            u.message
        );
        let r = u.into_response("req-1");
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-amzn-errortype"], "InvalidAction");
        // The same for EC2, in EC2's shape.
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &AUTH_IAM.replace("/iam/", "/ec2/")),
        ]);
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=DescribeInstances",
        );
        assert_eq!(u.wire, Wire::Ec2);
        // SQS's older protocol is named as such.
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("authorization", &AUTH_IAM.replace("/iam/", "/sqs/")),
        ]);
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=SendMessage",
        );
        assert_eq!(u.wire, Wire::Query);
        assert!(
            u.message.contains("not the query protocol") && u.message.contains("\"SendMessage\""),
            "{}",
            u.message
        );
        // A form body without Action is not the query protocol.
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let u = unserved(&Method::POST, &Uri::from_static("/"), &h, b"a=b");
        assert_eq!(u.wire, Wire::RestJson);
    }

    #[test]
    fn rest_requests_follow_the_signing_name() {
        let s3 = headers(&[("authorization", &AUTH_IAM.replace("/iam/", "/s3/"))]);
        let u = unserved(
            &Method::GET,
            &Uri::from_static("/bucket?list-type=2"),
            &s3,
            b"",
        );
        assert_eq!(
            (u.wire, u.status, u.code),
            (Wire::S3, 501, "NotImplemented")
        );
        assert!(u.message.contains("S3 (GET \"/bucket\")"), "{}", u.message);
        let lambda = headers(&[("authorization", &AUTH_IAM.replace("/iam/", "/lambda/"))]);
        let u = unserved(
            &Method::GET,
            &Uri::from_static("/2015-03-31/functions/"),
            &lambda,
            b"",
        );
        assert_eq!(
            (u.wire, u.code),
            (Wire::RestJson, "UnknownOperationException")
        );
        assert!(u.message.contains("Lambda"), "{}", u.message);
        // Presigned URL.
        let uri: Uri = "/b/k?X-Amz-Credential=test%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0"
            .parse()
            .unwrap();
        assert_eq!(
            unserved(&Method::GET, &uri, &HeaderMap::new(), b"").wire,
            Wire::S3
        );
        let route53 = headers(&[("authorization", &AUTH_IAM.replace("/iam/", "/route53/"))]);
        assert_eq!(
            unserved(
                &Method::GET,
                &Uri::from_static("/2013-04-01/hostedzone"),
                &route53,
                b""
            )
            .wire,
            Wire::RestXml
        );
    }

    #[test]
    fn cbor_requests_get_a_cbor_error_naming_the_operation() {
        let h = headers(&[("smithy-protocol", "rpc-v2-cbor")]);
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/service/GraniteServiceVersion20100801/operation/ListMetrics"),
            &h,
            b"",
        );
        assert_eq!(u.wire, Wire::Cbor);
        assert!(u.message.contains("\"ListMetrics\""), "{}", u.message);
        let bytes = cbor_error("Code", "hi");
        assert_eq!(
            bytes,
            [
                0xa2, 0x66, b'_', b'_', b't', b'y', b'p', b'e', 0x64, b'C', b'o', b'd', b'e', 0x67,
                b'm', b'e', b's', b's', b'a', b'g', b'e', 0x62, b'h', b'i'
            ]
        );
        let long = "x".repeat(300);
        let bytes = cbor_error("C", &long);
        let at = bytes.len() - 300 - 3;
        assert_eq!(&bytes[at..at + 3], &[0x79, 0x01, 0x2c]);
    }

    #[test]
    fn quoted_request_parts_are_bounded_and_escaped() {
        let q = quote(&"a".repeat(500));
        assert!(q.chars().count() < QUOTE_MAX + 4);
        assert_eq!(quote("a\nb"), "\"a?b\"");
        assert_eq!(
            xml_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let u = unserved(
            &Method::POST,
            &Uri::from_static("/"),
            &h,
            b"Action=%3Cscript%3E",
        );
        let r = u.into_response("id");
        let (_, body) = r.into_parts();
        let bytes = body_bytes(body);
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.contains("&lt;script&gt;") && !text.contains("<script>"),
            "{text}"
        );
    }

    fn body_bytes(body: Body) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap()
                .to_vec()
        })
    }
}
