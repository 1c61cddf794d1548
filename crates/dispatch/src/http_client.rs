//! The one HTTP client behind ferrule's outbound requests: HTTP targets, API
//! destinations, OAuth token requests and Step Functions' `http:invoke`.
//!
//! - **TLS** with rustls (the ring provider). Server certificates and host
//!   names are always checked, against the system's trusted roots through
//!   `rustls-platform-verifier`: on Linux and the BSDs those are read by
//!   `rustls-native-certs` (the distribution's bundle, found with
//!   `openssl-probe`), and there the environment variables `SSL_CERT_FILE`
//!   (a PEM file) and `SSL_CERT_DIR` (`:`-separated directories of PEM
//!   files) **replace** the system's roots when either is set; on macOS and
//!   Windows the platform's own verifier decides and those variables are not
//!   read. The roots are read once per agent, on its first `https://`
//!   request.
//! - **No redirects**: a 3xx is an answer (the service does not follow them
//!   for API destinations; ferrule treats every target the same way).
//! - Statuses are answers, not errors; one timeout for the whole request.
//!
//! Agents are shared (one per timeout and user agent, with its connection
//! pool), so a target resolved per delivery does not re-read the roots.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig};

/// The `User-Agent` of requests to HTTP targets and of `http:invoke`.
pub const FERRULE_USER_AGENT: &str = concat!("ferrule/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` the service sends to API destinations (and their OAuth
/// endpoints), as documented in "Headers included in requests to API
/// destinations".
pub const API_DESTINATION_USER_AGENT: &str = "Amazon/EventBridge/ApiDestinations";

type AgentKey = (Duration, &'static str);

/// The agent for requests that may take `timeout` in all, sending
/// `user_agent` (a request's own `User-Agent` header wins over it).
pub fn agent(timeout: Duration, user_agent: &'static str) -> ureq::Agent {
    static AGENTS: OnceLock<Mutex<HashMap<AgentKey, ureq::Agent>>> = OnceLock::new();
    let agents = AGENTS.get_or_init(Mutex::default);
    let mut agents = match agents.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    agents
        .entry((timeout, user_agent))
        .or_insert_with(|| build(timeout, user_agent))
        .clone()
}

fn build(timeout: Duration, user_agent: &'static str) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(user_agent)
        .tls_config(tls)
        .build()
        .into()
}

/// What went wrong with a request, in words, without the request itself (a
/// URL may carry a secret query parameter): a TLS failure says whether the
/// certificate was not trusted, not valid for the host, or out of date.
pub fn describe_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => describe_tls(tls),
            None => io.to_string(),
        },
        ureq::Error::Rustls(tls) => describe_tls(tls),
        ureq::Error::Tls(what) => format!("TLS: {what}"),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => "the URL is not valid".into(),
        ureq::Error::Protocol(p) => format!("protocol error: {p}"),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => "redirected".into(),
        _ => "the request failed".into(),
    }
}

fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let why = match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the server's certificate is not issued by a trusted certificate authority \
             (to trust a private one, name its PEM file in SSL_CERT_FILE or its directory in SSL_CERT_DIR)"
                .to_string()
        }
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            format!("the server's certificate is not valid for the host name ({e})")
        }
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => format!("the server's certificate is out of its validity period ({e})"),
        other => other.to_string(),
    };
    format!("TLS handshake failed: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_shared_per_timeout_and_user_agent() {
        let a = agent(Duration::from_secs(3), FERRULE_USER_AGENT);
        let b = agent(Duration::from_secs(3), FERRULE_USER_AGENT);
        let c = agent(Duration::from_secs(4), FERRULE_USER_AGENT);
        let config = |a: &ureq::Agent| {
            (
                a.config().timeouts().global,
                a.config().max_redirects(),
                a.config().http_status_as_error(),
                a.config().tls_config().disable_verification(),
                matches!(
                    a.config().tls_config().root_certs(),
                    RootCerts::PlatformVerifier
                ),
            )
        };
        assert_eq!(
            config(&a),
            (Some(Duration::from_secs(3)), 0, false, false, true)
        );
        assert_eq!(config(&c).0, Some(Duration::from_secs(4)));
        // One pool: the same agent behind both handles.
        assert_eq!(format!("{:p}", a.config()), format!("{:p}", b.config()));
        assert_ne!(format!("{:p}", a.config()), format!("{:p}", c.config()));
    }

    #[test]
    fn tls_failures_say_what_was_wrong() {
        use rustls::CertificateError as C;
        let io = |e: rustls::Error| {
            ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        };
        let untrusted = describe_error(&io(rustls::Error::InvalidCertificate(C::UnknownIssuer)));
        assert!(
            untrusted.starts_with("TLS handshake failed: "),
            "{untrusted}"
        );
        assert!(untrusted.contains("not issued by a trusted certificate authority"));
        assert!(untrusted.contains("SSL_CERT_FILE"));
        let name = describe_error(&io(rustls::Error::InvalidCertificate(C::NotValidForName)));
        assert!(name.contains("not valid for the host name"), "{name}");
        let expired = describe_error(&ureq::Error::Rustls(rustls::Error::InvalidCertificate(
            C::Expired,
        )));
        assert!(expired.contains("validity period"), "{expired}");
        let refused = describe_error(&ureq::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert!(refused.contains("refused"), "{refused}");
    }
}
