//! `ferrule serve`: the EventBridge-compatible server.

use std::path::PathBuf;

use super::{Args, CliError};
use ferrule_server::{ServeOptions, serve};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4010";

pub fn run(args: &mut Args) -> Result<i32, CliError> {
    let listen = args
        .value("listen")?
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let listen = listen
        .parse()
        .map_err(|_| CliError::usage(format!("--listen needs HOST:PORT, not {listen:?}")))?;
    let data_dir = args
        .value("data-dir")?
        .map_or_else(|| PathBuf::from("ferrule-data"), PathBuf::from);
    let config = args.value("config")?.map(PathBuf::from);
    let taken = std::mem::replace(args, Args::new(Vec::new()));
    taken.finish()?;
    serve(ServeOptions {
        listen,
        data_dir,
        config,
    })
    .map_err(CliError::fail)?;
    Ok(0)
}
