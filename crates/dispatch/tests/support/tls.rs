//! TLS for tests: certificate authorities made in the test (rcgen), HTTPS
//! servers on loopback (rustls) that record what they read, trusting a CA
//! the way a user would (`SSL_CERT_FILE`), and a small runner for test
//! binaries with `harness = false` (which set the variable before any thread
//! exists): [`run_with_cas`].
//!
//! Requests are read and answered by `http.rs`, which the includer has as
//! its module `http` beside this one.
//!
//! Shared by the https tests of ferrule-dispatch, ferrule-bus and
//! ferrule-runner (`#[path]`).

#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

// The requests and answers are plain HTTP's, read and written by its module
// (one copy in a test binary: the includer has it beside this one).
use super::http;
pub use http::{Answer, Seen};

/// A certificate authority of the test's own.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, PEM.
    pub pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    /// A new root CA named `name`.
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server configuration whose certificate, issued by this CA, names
    /// `names` (DNS names or IP addresses).
    pub fn server_config(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "ferrule test server");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), self.der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        Arc::new(config)
    }
}

/// Makes the process trust `ca` alone, as a user would: its PEM in a file
/// named by `SSL_CERT_FILE` (and no `SSL_CERT_DIR`). The file is removed
/// when the returned guard is dropped.
///
/// Call it first thing in `main`, before any thread is spawned.
pub fn trust_only(ca: &Ca) -> Roots {
    let dir = std::env::temp_dir().join(format!("ferrule-tls-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("roots.pem");
    std::fs::write(&path, &ca.pem).unwrap();
    // SAFETY: called at the start of `main` of a test binary built with
    // `harness = false`, before it spawns any thread, so nothing reads or
    // writes the environment concurrently (the condition of `set_var`).
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &path);
        std::env::remove_var("SSL_CERT_DIR");
    }
    Roots(dir)
}

/// The directory of the trusted roots' file; removed on drop.
pub struct Roots(PathBuf);

impl Drop for Roots {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An HTTPS server on 127.0.0.1, a thread per connection, one request per
/// connection (it answers `connection: close`).
pub struct TlsServer {
    /// Its port.
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    handshake_errors: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    /// Serves with `config`, answering 200 `{}` to everything.
    pub fn ok(config: Arc<rustls::ServerConfig>) -> TlsServer {
        TlsServer::start(config, Arc::new(|_| (200, "{}".to_string())))
    }

    /// Serves with `config`, answering with `answer`.
    pub fn start(config: Arc<rustls::ServerConfig>, answer: Answer) -> TlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handshake_errors = Arc::new(Mutex::new(Vec::new()));
        let (log, errors) = (Arc::clone(&seen), Arc::clone(&handshake_errors));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (config, answer) = (Arc::clone(&config), Arc::clone(&answer));
                let (log, errors) = (Arc::clone(&log), Arc::clone(&errors));
                std::thread::spawn(move || {
                    if let Err(e) = serve_one(stream, config, &answer, &log) {
                        errors.lock().unwrap().push(e);
                    }
                });
            }
        });
        TlsServer {
            port,
            seen,
            handshake_errors,
        }
    }

    /// `https://HOST:PORT/PATH`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port)
    }

    /// The requests read so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Why connections failed before a request was read (a client that
    /// refuses the certificate hangs up in the handshake).
    pub fn handshake_errors(&self) -> Vec<String> {
        // The client's alert may still be in flight when its call returns.
        for _ in 0..100 {
            if !self.handshake_errors.lock().unwrap().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.handshake_errors.lock().unwrap().clone()
    }
}

fn serve_one(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    answer: &Answer,
    log: &Mutex<Vec<Seen>>,
) -> Result<(), String> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let conn = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .map_err(|e| e.to_string())?;
    }
    let Some(seen) =
        http::read_request(&mut BufReader::new(&mut tls)).map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let (status, body) = answer(&seen);
    log.lock().unwrap().push(seen);
    http::write_answer(&mut tls, status, &body).map_err(|e| e.to_string())?;
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| e.to_string())
}

/// The certificate authorities of an https test binary: `trusted`, the only
/// one the process trusts (as [`trust_only`] makes it), and `other`, which
/// nobody trusts.
pub struct Cas {
    /// Trusted through `SSL_CERT_FILE`.
    pub trusted: Ca,
    /// Trusted by nobody.
    pub other: Ca,
}

/// One case of an https test binary: its name, and the test, given the CAs.
pub type Case = (&'static str, fn(&Cas));

/// The `main` of an https test binary: makes the two CAs and trusts one
/// before any thread exists (as [`trust_only`] needs), then runs `cases` in
/// order (those whose names contain one of the command line's words, if any
/// are given), reporting them as the libtest harness does; the exit code is
/// a failure if one failed. The trusted roots' file is removed after.
pub fn run_with_cas(cases: &[Case]) -> std::process::ExitCode {
    let trusted = Ca::new("ferrule test root");
    let _roots = trust_only(&trusted);
    let cas = Cas {
        trusted,
        other: Ca::new("a root nobody trusts"),
    };
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let chosen: Vec<_> = cases
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for (name, case) in &chosen {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&cas))) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        println!("failures: {failed:?}");
        std::process::ExitCode::from(101)
    }
}
