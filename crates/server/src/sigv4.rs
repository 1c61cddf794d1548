//! AWS Signature Version 4 verification (header-based `Authorization`).
//!
//! The canonical request is rebuilt from what the server received:
//!
//! * the canonical URI is the request path as it arrived, with dot segments
//!   and repeated slashes removed (RFC 3986 section 5.2.4, as AWS does for
//!   every service but S3), and every byte outside RFC 3986's unreserved set
//!   (slashes excepted) percent-encoded once more. Clients sign the raw path
//!   encoded twice, so encoding the already-encoded wire path once yields the
//!   same string. The un-normalized path is tried too when it differs, for
//!   clients that do not normalize;
//! * the canonical query string is every parameter percent-decoded, encoded
//!   again strictly (RFC 3986) and sorted by name, then value;
//! * canonical headers are the signed headers, lowercase, in the order the
//!   `SignedHeaders` list names them, values trimmed with inner whitespace
//!   runs collapsed and repeated headers joined with commas;
//! * the payload hash is `x-amz-content-sha256` when present (then it must be
//!   `UNSIGNED-PAYLOAD` or the body's actual SHA-256), else the body's SHA-256.
//!
//! Signatures are compared in constant time (`Mac::verify_slice`).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far `x-amz-date` may be from the server's clock, either way.
const MAX_SKEW_SECS: i64 = 15 * 60;

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuthError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl AuthError {
    fn missing() -> Self {
        Self {
            status: 403,
            code: "MissingAuthenticationTokenException",
            message: "Missing Authentication Token".to_string(),
        }
    }

    fn incomplete(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "IncompleteSignatureException",
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "InvalidSignatureException",
            message: message.into(),
        }
    }

    fn mismatch() -> Self {
        Self::invalid(MISMATCH)
    }

    fn unrecognized() -> Self {
        Self {
            status: 400,
            code: "UnrecognizedClientException",
            message: "The security token included in the request is invalid.".to_string(),
        }
    }
}

/// What a verified signature says about the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verified {
    /// The access key id that signed it.
    pub(crate) access_key: String,
    /// The region of the credential scope.
    pub(crate) region: String,
    /// The service of the credential scope.
    pub(crate) service: String,
    /// The signed header names (lowercase).
    pub(crate) signed_headers: Vec<String>,
}

impl Verified {
    /// Checks that the signature is for this server and this request: the
    /// scope names `service` (the one the request is addressed to) and one
    /// of `regions`, and every `x-amz-*` header present is signed, so that
    /// a captured request cannot be replayed as another operation (an
    /// unsigned `X-Amz-Target`) or at another service.
    pub(crate) fn check_scope(
        &self,
        service: &str,
        region_ok: impl Fn(&str) -> bool,
        headers: &HeaderMap,
    ) -> Result<(), AuthError> {
        if self.service != service {
            return Err(AuthError::invalid(format!(
                "Credential should be scoped to correct service: '{service}'. "
            )));
        }
        if !region_ok(&self.region) {
            return Err(AuthError::invalid(format!(
                "Credential should be scoped to a valid region, not '{}'. ",
                self.region
            )));
        }
        for name in headers.keys() {
            let name = name.as_str();
            if name.starts_with("x-amz-") && !self.signed_headers.iter().any(|s| s == name) {
                return Err(AuthError::invalid(format!(
                    "Header '{name}' is not signed: every x-amz-* header of the request must be listed in SignedHeaders."
                )));
            }
        }
        Ok(())
    }
}

/// Verifies the signature against `secrets` (access key id → secret access key).
pub(crate) fn verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Verified, AuthError> {
    let header = headers
        .get("authorization")
        .ok_or_else(AuthError::missing)?;
    let header = header.to_str().map_err(|_| {
        AuthError::incomplete(
            "Authorization header contains characters that are not visible ASCII.",
        )
    })?;
    let auth = parse_authorization(header)?;

    let (amz_date, signed_at) = request_time(headers, header)?;

    let secret = secrets
        .get(auth.access_key)
        .ok_or_else(AuthError::unrecognized)?;

    check_skew(&amz_date, signed_at, now)?;

    if auth.date != &amz_date[..8] {
        return Err(AuthError::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{}' != '{}', from '{}'.",
            auth.date,
            &amz_date[..8],
            amz_date
        )));
    }

    let payload = payload_hash(headers, body)?;
    let canonical_headers = canonical_headers(headers, &auth.signed_headers)?;
    let signed_headers = auth.signed_headers.join(";");
    let query = canonical_query(query);
    let provided = hex::decode(auth.signature).map_err(|_| AuthError::mismatch())?;

    let scope = format!(
        "{}/{}/{}/{TERMINATOR}",
        auth.date, auth.region, auth.service
    );
    let key = signing_key(secret, auth.date, auth.region, auth.service);

    let normalized = canonical_uri(path, true);
    let raw = canonical_uri(path, false);
    let candidates: &[&str] = if normalized == raw {
        &[&normalized]
    } else {
        &[&normalized, &raw]
    };
    for uri in candidates {
        let request = canonical_request(
            method,
            uri,
            &query,
            &canonical_headers,
            &signed_headers,
            &payload,
        );
        let to_sign = string_to_sign(&amz_date, &scope, &request);
        let mut mac = new_mac(&key);
        mac.update(to_sign.as_bytes());
        if mac.verify_slice(&provided).is_ok() {
            return Ok(Verified {
                access_key: auth.access_key.to_string(),
                region: auth.region.to_string(),
                service: auth.service.to_string(),
                signed_headers: auth.signed_headers.clone(),
            });
        }
    }
    Err(AuthError::mismatch())
}

/// The parts of an `AWS4-HMAC-SHA256` Authorization header.
#[derive(Debug)]
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, AuthError> {
    let trimmed = header.trim();
    let (algorithm, params) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    if algorithm != ALGORITHM {
        return Err(AuthError::incomplete(format!(
            "Unsupported AWS authentication algorithm '{algorithm}'; expected '{ALGORITHM}'. \
             Authorization={header}"
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for param in params.split(',') {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let Some((name, value)) = param.split_once('=') else {
            return Err(AuthError::incomplete(format!(
                "'{param}' not a valid key=value pair (missing equal-sign) in Authorization header: \
                 '{header}'."
            )));
        };
        let value = value.trim();
        match name.trim() {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthError::incomplete(format!(
            "{missing}Authorization={header}"
        )));
    };
    if !missing.is_empty() {
        return Err(AuthError::incomplete(format!(
            "{missing}Authorization={header}"
        )));
    }

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(AuthError::incomplete(format!(
            "Credential should be of the form \
             '<access key id>/<YYYYMMDD>/<region>/<service>/{TERMINATOR}', not '{credential}'."
        )));
    };
    if terminator != TERMINATOR {
        return Err(AuthError::incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
        )));
    }
    if access_key.is_empty() || region.is_empty() || service.is_empty() {
        return Err(AuthError::incomplete(format!(
            "Credential should name an access key, a region and a service, not '{credential}'."
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::incomplete(format!(
            "Credential should be scoped to a valid date (YYYYMMDD), not '{date}'."
        )));
    }

    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(AuthError::incomplete(format!(
            "SignedHeaders contains an empty header name. Authorization={header}"
        )));
    }
    if !signed_headers.iter().any(|name| name == "host") {
        return Err(AuthError::incomplete(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }

    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// The request's timestamp in ISO-8601 basic format (as it goes into the
/// string to sign) and as seconds since the Unix epoch: `x-amz-date`, else a
/// `Date` header in either ISO-8601 basic or IMF-fixdate form.
fn request_time(headers: &HeaderMap, authorization: &str) -> Result<(String, i64), AuthError> {
    let bad = |got: &str| {
        AuthError::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    };
    if let Some(value) = headers.get("x-amz-date") {
        let text = value.to_str().map_err(|_| bad("<non-ASCII>"))?.trim();
        let secs = parse_basic(text).ok_or_else(|| bad(text))?;
        return Ok((text.to_string(), secs));
    }
    if let Some(value) = headers.get("date") {
        let text = value.to_str().map_err(|_| bad("<non-ASCII>"))?.trim();
        if let Some(secs) = parse_basic(text) {
            return Ok((text.to_string(), secs));
        }
        let secs = parse_imf_fixdate(text).ok_or_else(|| bad(text))?;
        return Ok((format_basic(secs), secs));
    }
    Err(AuthError::incomplete(format!(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization={authorization}"
    )))
}

fn check_skew(amz_date: &str, signed_at: i64, now: SystemTime) -> Result<(), AuthError> {
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    if signed_at < now.saturating_sub(MAX_SKEW_SECS) {
        return Err(AuthError::invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_basic(now.saturating_sub(MAX_SKEW_SECS)),
            format_basic(now)
        )));
    }
    if signed_at > now.saturating_add(MAX_SKEW_SECS) {
        return Err(AuthError::invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_basic(now.saturating_add(MAX_SKEW_SECS)),
            format_basic(now)
        )));
    }
    Ok(())
}

/// `x-amz-content-sha256` when present, else the hex SHA-256 of the body.
fn payload_hash(headers: &HeaderMap, body: &[u8]) -> Result<String, AuthError> {
    let Some(value) = headers.get("x-amz-content-sha256") else {
        return Ok(hex::encode(Sha256::digest(body)));
    };
    let claimed = value.to_str().map_err(|_| {
        AuthError::invalid(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body.",
        )
    })?;
    let claimed = claimed.trim();
    if claimed == UNSIGNED_PAYLOAD {
        return Ok(claimed.to_string());
    }
    if claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
        if !claimed.eq_ignore_ascii_case(&hex::encode(Sha256::digest(body))) {
            return Err(AuthError::invalid(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ));
        }
        return Ok(claimed.to_string());
    }
    Err(AuthError::invalid(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body.",
    ))
}

/// The canonical URI: `path` (optionally with dot segments and empty
/// segments removed) with every byte but unreserved ones and `/` encoded.
fn canonical_uri(path: &str, normalize: bool) -> String {
    let path = if normalize {
        normalize_path(path)
    } else if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    };
    let mut out = String::with_capacity(path.len() + 8);
    uri_encode(path.as_bytes(), true, &mut out);
    out
}

/// RFC 3986 remove_dot_segments, also dropping empty segments (`//`) the
/// way the AWS SigV4 test suite expects for non-S3 services.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let mut trailing = false;
    for segment in path.split('/') {
        match segment {
            "" => trailing = true,
            "." => trailing = true,
            ".." => {
                segments.pop();
                trailing = true;
            }
            s => {
                segments.push(s);
                trailing = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: parameters decoded, strictly re-encoded and
/// sorted by name, then by value; a parameter without `=` has an empty value.
fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            let mut n = String::new();
            let mut v = String::new();
            uri_encode(&percent_decode(name), false, &mut n);
            uri_encode(&percent_decode(value), false, &mut v);
            (n, v)
        })
        .collect();
    params.sort();
    let mut out = String::new();
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// `name:value\n` for each signed header, in the order given.
fn canonical_headers(headers: &HeaderMap, names: &[String]) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::new();
    for name in names {
        let mut values = headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none() {
            // A header the client says it signed is not here.
            return Err(AuthError::mismatch());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_collapsed(value.as_bytes(), &mut out);
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// Appends `value` trimmed, with each run of inner whitespace as one space.
fn push_collapsed(value: &[u8], out: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if b.is_ascii_whitespace() {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
            started = true;
        }
    }
}

fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    canonical_headers: &[u8],
    signed_headers: &str,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        method.len()
            + uri.len()
            + query.len()
            + canonical_headers.len()
            + signed_headers.len()
            + 72,
    );
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(uri.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_headers);
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request))
    )
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// Percent-encodes every byte outside RFC 3986's unreserved set (and `/`
/// when `keep_slash`), with uppercase hex digits.
fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as is.
fn percent_decode(text: &str) -> Vec<u8> {
    fn hex_value(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Seconds since the epoch of a UTC civil time (jiff checks the calendar).
fn to_epoch(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<i64> {
    let dt = jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    Some(
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

/// `YYYYMMDDTHHMMSSZ`.
fn parse_basic(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_epoch(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(text: &str) -> Option<i64> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = text.as_bytes();
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &b[25..] != b" GMT"
    {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[8..11] == *m)? as u32 + 1;
    to_epoch(
        i64::from(digits(&b[12..16])?),
        month,
        digits(&b[5..7])?,
        digits(&b[17..19])?,
        digits(&b[20..22])?,
        digits(&b[23..25])?,
    )
}

fn format_basic(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(t) => t.strftime("%Y%m%dT%H%M%SZ").to_string(),
        // Outside jiff's range (years -9999..=9999): no request is signed there.
        Err(_) => "99991231T235959Z".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::time::Duration;

    // The AWS SigV4 test suite (awslabs/aws-c-auth
    // tests/aws-signing-test-suite/v4, also shipped with aws-sdk-js-v3
    // packages/signature-v4/src/suite.fixture.ts): every case is signed by
    // AKIDEXAMPLE at 20150830T123600Z for region us-east-1, service "service".
    const SUITE_KEY: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_CREDENTIAL: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn at(amz_date: &str) -> SystemTime {
        let secs = parse_basic(amz_date).expect("valid date");
        UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
    }

    fn suite_secrets() -> HashMap<String, String> {
        HashMap::from([(SUITE_KEY.to_string(), SUITE_SECRET.to_string())])
    }

    fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        map
    }

    /// Verifies one test-suite case: `extra` headers besides host and x-amz-date.
    fn suite_verify(
        method: &str,
        path: &str,
        query: &str,
        extra: &[(&str, &str)],
        body: &[u8],
        signed_headers: &str,
        signature: &str,
    ) -> Result<String, AuthError> {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={SUITE_CREDENTIAL}, SignedHeaders={signed_headers}, Signature={signature}"
        );
        let mut headers = vec![
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", SUITE_DATE),
            ("Authorization", authorization.as_str()),
        ];
        headers.extend_from_slice(extra);
        verify(
            method,
            path,
            query,
            &header_map(&headers),
            body,
            &suite_secrets(),
            at(SUITE_DATE),
        )
        .map(|v| v.access_key)
    }

    fn assert_suite(
        method: &str,
        path: &str,
        query: &str,
        extra: &[(&str, &str)],
        body: &[u8],
        signed_headers: &str,
        signature: &str,
    ) {
        assert_eq!(
            suite_verify(method, path, query, extra, body, signed_headers, signature),
            Ok(SUITE_KEY.to_string()),
            "{method} {path}?{query}"
        );
    }

    #[test]
    fn signing_key_matches_the_documented_derivation() {
        // AWS docs, "Examples of how to derive a signing key for Signature Version 4".
        let key = signing_key(SUITE_SECRET, "20120215", "us-east-1", "iam");
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let query = canonical_query("Param2=value2&Param1=value1");
        assert_eq!(query, "Param1=value1&Param2=value2");
        let headers = header_map(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", SUITE_DATE),
        ]);
        let names = vec!["host".to_string(), "x-amz-date".to_string()];
        let creq = canonical_request(
            "GET",
            &canonical_uri("/", true),
            &query,
            &canonical_headers(&headers, &names).expect("headers"),
            "host;x-amz-date",
            EMPTY_SHA256,
        );
        assert_eq!(
            String::from_utf8(creq.clone()).expect("utf8"),
            "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n\
             x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                .to_string()
                + EMPTY_SHA256
        );
        let sts = string_to_sign(SUITE_DATE, "20150830/us-east-1/service/aws4_request", &creq);
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"
        );
        assert_suite(
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            &[],
            b"",
            "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        );
    }

    #[test]
    fn test_suite_cases() {
        // get-vanilla
        assert_suite(
            "GET",
            "/",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
        // post-vanilla
        assert_suite(
            "POST",
            "/",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        );
        // get-vanilla-empty-query-key
        assert_suite(
            "GET",
            "/",
            "Param1=value1",
            &[],
            b"",
            "host;x-amz-date",
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        );
        // post-vanilla-query
        assert_suite(
            "POST",
            "/",
            "Param1=value1",
            &[],
            b"",
            "host;x-amz-date",
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        );
        // get-vanilla-query-unreserved
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        assert_suite(
            "GET",
            "/",
            &format!("{unreserved}={unreserved}"),
            &[],
            b"",
            "host;x-amz-date",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        );
        // get-unreserved
        assert_suite(
            "GET",
            &format!("/{unreserved}"),
            "",
            &[],
            b"",
            "host;x-amz-date",
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        );
        // get-vanilla-utf8-query, raw as in the suite and percent-encoded as on the wire
        for query in ["ሴ=bar", "%E1%88%B4=bar", "%e1%88%b4=bar"] {
            assert_suite(
                "GET",
                "/",
                query,
                &[],
                b"",
                "host;x-amz-date",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            );
        }
        // get-utf8 (the suite's path is the raw, unencoded one)
        assert_suite(
            "GET",
            "/ሴ",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        );
        // get-header-value-trim
        assert_suite(
            "GET",
            "/",
            "",
            &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            b"",
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        );
        // get-header-key-duplicate: repeated headers joined with commas, in order
        assert_suite(
            "GET",
            "/",
            "",
            &[
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
            ],
            b"",
            "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        );
        // post-header-value-case
        assert_suite(
            "POST",
            "/",
            "",
            &[("My-Header1", "VALUE1")],
            b"",
            "host;my-header1;x-amz-date",
            "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        );
        // post-x-www-form-urlencoded (aws-c-auth variant, signing x-amz-content-sha256)
        assert_suite(
            "POST",
            "/",
            "",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", "13"),
                (
                    "x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                ),
            ],
            b"Param1=value1",
            "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
            "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
        );
        // post-x-www-form-urlencoded (original variant, hash of the body)
        assert_suite(
            "POST",
            "/",
            "",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"Param1=value1",
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        );
        // post-sts-header-before: the session token is just a signed header
        assert_suite(
            "POST",
            "/",
            "",
            &[(
                "X-Amz-Security-Token",
                "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
            )],
            b"",
            "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        );
        // post-sts-header-after: an unsigned x-amz-content-sha256 still names the payload hash
        assert_suite(
            "POST",
            "/",
            "",
            &[("x-amz-content-sha256", EMPTY_SHA256)],
            b"",
            "host;x-amz-date",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        );
    }

    #[test]
    fn test_suite_normalize_path_cases() {
        // get-slashes-normalized
        assert_suite(
            "GET",
            "//example//",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        );
        // get-relative-relative-normalized
        assert_suite(
            "GET",
            "/example1/example2/../..",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
        // get-space-normalized (raw path as in the suite)
        assert_suite(
            "GET",
            "/example space/",
            "",
            &[],
            b"",
            "host;x-amz-date",
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        );
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/./example"), "/example");
        assert_eq!(normalize_path("/a/b/."), "/a/b/");
        assert_eq!(normalize_path("/a/b/.."), "/a/");
        assert_eq!(normalize_path("/../a"), "/a");
        // A wire path is encoded once more, as SDKs double-encode.
        assert_eq!(canonical_uri("/a%20b/c", true), "/a%2520b/c");
    }

    #[test]
    fn canonical_query_encoding() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b&a=1&&a=0"), "a=0&a=1&b=");
        assert_eq!(canonical_query("k=a+b%2Fc%20d"), "k=a%2Bb%2Fc%20d");
        assert_eq!(canonical_query("k=%zz"), "k=%25zz");
        assert_eq!(canonical_query("k=%4"), "k=%254");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
        let t = parse_basic("20240229T235959Z").expect("leap day");
        assert_eq!(format_basic(t), "20240229T235959Z");
        assert_eq!(parse_basic("20230229T000000Z"), None);
        assert_eq!(parse_basic("20240501T240000Z"), None);
        assert_eq!(parse_basic("2024-05-01T00:00:00Z"), None);
        assert_eq!(
            parse_imf_fixdate("Sun, 30 Aug 2015 12:36:00 GMT"),
            parse_basic(SUITE_DATE)
        );
        assert_eq!(format_basic(-1), "19691231T235959Z");
    }

    // ----- EventBridge-style requests signed by an independent test signer -----

    const KEY: &str = "AKIAFERRULETEST";
    const SECRET: &str = "ferrule/secret+KEY";
    const DATE: &str = "20240501T120000Z";
    const BODY: &[u8] = br#"{"Entries":[{"Source":"my.app","DetailType":"Order Placed","Detail":"{\"id\":1}","EventBusName":"default"}]}"#;

    fn secrets() -> HashMap<String, String> {
        HashMap::from([(KEY.to_string(), SECRET.to_string())])
    }

    /// Signs a `POST /` with the given headers (names lowercase, sorted)
    /// straight from the spec's formulas, not the module's helpers.
    fn sign(secret: &str, amz_date: &str, headers: &[(&str, &str)], payload_hash: &str) -> String {
        fn mac(key: &[u8], data: &str) -> Vec<u8> {
            let mut m = HmacSha256::new_from_slice(key).expect("any key length");
            m.update(data.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        let date = &amz_date[..8];
        let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        let signed = signed.join(";");
        let creq = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{payload_hash}");
        let scope = format!("{date}/us-east-1/events/aws4_request");
        let sts = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(creq.as_bytes()))
        );
        let k = mac(format!("AWS4{secret}").as_bytes(), date);
        let k = mac(&k, "us-east-1");
        let k = mac(&k, "events");
        let k = mac(&k, "aws4_request");
        let signature = hex::encode(mac(&k, &sts));
        format!(
            "AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
    }

    fn put_events_headers(amz_date: &str) -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("host", "localhost:4010".to_string()),
            ("x-amz-date", amz_date.to_string()),
            ("x-amz-target", "AWSEvents.PutEvents".to_string()),
        ]
    }

    /// A signed PutEvents request: its headers, including Authorization.
    fn signed_put_events(secret: &str, amz_date: &str, payload_hash: Option<&str>) -> HeaderMap {
        let mut headers = put_events_headers(amz_date);
        let body_hash = hex::encode(Sha256::digest(BODY));
        if let Some(hash) = payload_hash {
            headers.push(("x-amz-content-sha256", hash.to_string()));
        }
        headers.push(("x-amz-security-token", "session/token==".to_string()));
        headers.sort();
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let authorization = sign(secret, amz_date, &pairs, payload_hash.unwrap_or(&body_hash));
        let mut map = header_map(&pairs);
        map.insert(
            "authorization",
            HeaderValue::from_str(&authorization).expect("ascii"),
        );
        map.insert("content-length", HeaderValue::from(BODY.len()));
        map
    }

    fn verify_post(headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<String, AuthError> {
        verify("POST", "/", "", headers, body, &secrets(), now).map(|v| v.access_key)
    }

    fn code(result: Result<String, AuthError>) -> &'static str {
        match result {
            Ok(_) => "Ok",
            Err(e) => {
                assert!(!e.message.is_empty());
                assert_eq!(
                    e.status,
                    if e.code.starts_with("Missing") {
                        403
                    } else {
                        400
                    }
                );
                e.code
            }
        }
    }

    #[test]
    fn signed_put_events_passes() {
        let headers = signed_put_events(SECRET, DATE, None);
        assert_eq!(verify_post(&headers, BODY, at(DATE)), Ok(KEY.to_string()));
        // Within the 15-minute window either way.
        assert_eq!(
            verify_post(&headers, BODY, at("20240501T121400Z")),
            Ok(KEY.to_string())
        );
        assert_eq!(
            verify_post(&headers, BODY, at("20240501T114600Z")),
            Ok(KEY.to_string())
        );
        // The lowercase hex content hash is honoured.
        let hash = hex::encode(Sha256::digest(BODY));
        let headers = signed_put_events(SECRET, DATE, Some(&hash));
        assert_eq!(verify_post(&headers, BODY, at(DATE)), Ok(KEY.to_string()));
    }

    #[test]
    fn unsigned_payload_is_honoured() {
        let headers = signed_put_events(SECRET, DATE, Some("UNSIGNED-PAYLOAD"));
        assert_eq!(verify_post(&headers, BODY, at(DATE)), Ok(KEY.to_string()));
        assert_eq!(verify_post(&headers, b"{}", at(DATE)), Ok(KEY.to_string()));
    }

    #[test]
    fn tampered_body_fails() {
        let headers = signed_put_events(SECRET, DATE, None);
        let mut body = BODY.to_vec();
        body[20] ^= 1;
        assert_eq!(
            code(verify_post(&headers, &body, at(DATE))),
            "InvalidSignatureException"
        );
        let err = verify_post(&headers, &body, at(DATE)).expect_err("tampered");
        assert_eq!(err.message, MISMATCH);

        let hash = hex::encode(Sha256::digest(BODY));
        let headers = signed_put_events(SECRET, DATE, Some(&hash));
        assert_eq!(
            code(verify_post(&headers, &body, at(DATE))),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn tampered_headers_fail() {
        let mut headers = signed_put_events(SECRET, DATE, None);
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSEvents.DeleteRule"),
        );
        assert_eq!(
            code(verify_post(&headers, BODY, at(DATE))),
            "InvalidSignatureException"
        );

        let mut headers = signed_put_events(SECRET, DATE, None);
        headers.remove("x-amz-security-token");
        assert_eq!(
            code(verify_post(&headers, BODY, at(DATE))),
            "InvalidSignatureException"
        );

        let headers = signed_put_events(SECRET, DATE, None);
        let result = verify("POST", "/other", "", &headers, BODY, &secrets(), at(DATE));
        assert_eq!(
            code(result.map(|v| v.access_key)),
            "InvalidSignatureException"
        );
        let result = verify("PUT", "/", "", &headers, BODY, &secrets(), at(DATE));
        assert_eq!(
            code(result.map(|v| v.access_key)),
            "InvalidSignatureException"
        );
        let result = verify("POST", "/", "a=b", &headers, BODY, &secrets(), at(DATE));
        assert_eq!(
            code(result.map(|v| v.access_key)),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn wrong_secret_fails() {
        let headers = signed_put_events("not-the-secret", DATE, None);
        let err = verify_post(&headers, BODY, at(DATE)).expect_err("wrong secret");
        assert_eq!(err.code, "InvalidSignatureException");
        assert_eq!(err.status, 400);
        assert_eq!(err.message, MISMATCH);
    }

    #[test]
    fn unknown_key_fails() {
        let headers = signed_put_events(SECRET, DATE, None);
        let others = HashMap::from([("AKIAOTHER".to_string(), SECRET.to_string())]);
        let err = verify("POST", "/", "", &headers, BODY, &others, at(DATE)).expect_err("unknown");
        assert_eq!(err.code, "UnrecognizedClientException");
        assert_eq!(err.status, 400);
        assert_eq!(
            err.message,
            "The security token included in the request is invalid."
        );
    }

    #[test]
    fn missing_authorization_fails() {
        let mut headers = signed_put_events(SECRET, DATE, None);
        headers.remove("authorization");
        let err = verify_post(&headers, BODY, at(DATE)).expect_err("missing");
        assert_eq!(
            err,
            AuthError {
                status: 403,
                code: "MissingAuthenticationTokenException",
                message: "Missing Authentication Token".to_string(),
            }
        );
    }

    #[test]
    fn expired_and_future_dates_fail() {
        let headers = signed_put_events(SECRET, DATE, None);
        let err = verify_post(&headers, BODY, at("20240501T121501Z")).expect_err("expired");
        assert_eq!(err.code, "InvalidSignatureException");
        assert_eq!(
            err.message,
            "Signature expired: 20240501T120000Z is now earlier than 20240501T120001Z \
             (20240501T121501Z - 15 min.)"
        );
        let err = verify_post(&headers, BODY, at("20240501T114459Z")).expect_err("future");
        assert_eq!(err.code, "InvalidSignatureException");
        assert!(
            err.message.starts_with("Signature not yet current: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn malformed_headers_fail() {
        let good = signed_put_events(SECRET, DATE, None);
        let with_auth = |value: &str| {
            let mut h = good.clone();
            h.insert(
                "authorization",
                HeaderValue::from_str(value).expect("ascii"),
            );
            code(verify_post(&h, BODY, at(DATE)))
        };
        let incomplete = "IncompleteSignatureException";
        assert_eq!(with_auth("Bearer abc"), incomplete);
        assert_eq!(with_auth("AWS4-HMAC-SHA256"), incomplete);
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240501/us-east-1/events/aws4_request"
            ),
            incomplete
        );
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240501/us-east-1/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00"
            ),
            incomplete
        );
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240501/us-east-1/events/aws5_request, \
                 SignedHeaders=host;x-amz-date, Signature=00"
            ),
            incomplete
        );
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240501/us-east-1/events/aws4_request, \
                 SignedHeaders=x-amz-date, Signature=00"
            ),
            incomplete
        );
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240501/us-east-1/events/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=zz"
            ),
            "InvalidSignatureException"
        );
        // Scope date differs from x-amz-date.
        assert_eq!(
            with_auth(
                "AWS4-HMAC-SHA256 Credential=AKIAFERRULETEST/20240502/us-east-1/events/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00"
            ),
            "InvalidSignatureException"
        );

        let mut h = good.clone();
        h.remove("x-amz-date");
        assert_eq!(code(verify_post(&h, BODY, at(DATE))), incomplete);
        let mut h = good.clone();
        h.insert(
            "x-amz-date",
            HeaderValue::from_static("2024-05-01T12:00:00Z"),
        );
        assert_eq!(code(verify_post(&h, BODY, at(DATE))), incomplete);
        let mut h = good;
        h.insert(
            "x-amz-content-sha256",
            HeaderValue::from_static("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        );
        assert_eq!(
            code(verify_post(&h, BODY, at(DATE))),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn scope_names_service_and_region_and_covers_amz_headers() {
        let headers = signed_put_events(SECRET, DATE, None);
        let v = verify("POST", "/", "", &headers, BODY, &secrets(), at(DATE)).expect("verified");
        let regions = [v.region.clone()];
        assert_eq!(
            v.check_scope(
                &v.service.clone(),
                |r| regions.contains(&r.to_string()),
                &headers
            ),
            Ok(())
        );
        let wrong_service = v.check_scope("sqs", |r| regions.contains(&r.to_string()), &headers);
        assert!(
            wrong_service.is_err_and(|e| e.code == "InvalidSignatureException"
                && e.message.contains("correct service: 'sqs'"))
        );
        let wrong_region = v.check_scope(&v.service.clone(), |r| r == "eu-west-1", &headers);
        assert!(wrong_region.is_err_and(|e| e.message.contains("valid region")));
        let mut extra = headers.clone();
        extra.insert(
            "x-amz-target",
            HeaderValue::from_static("AWSEvents.DeleteRule"),
        );
        if !v.signed_headers.iter().any(|h| h == "x-amz-target") {
            let unsigned = v.check_scope(
                &v.service.clone(),
                |r| regions.contains(&r.to_string()),
                &extra,
            );
            assert!(unsigned.is_err_and(|e| e.message.contains("'x-amz-target' is not signed")));
        }
        extra.insert("x-amz-evil", HeaderValue::from_static("1"));
        let unsigned = v.check_scope(
            &v.service.clone(),
            |r| regions.contains(&r.to_string()),
            &extra,
        );
        assert!(unsigned.is_err_and(|e| e.message.contains("is not signed")));
    }
}
