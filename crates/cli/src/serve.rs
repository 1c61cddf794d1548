//! `ferrule serve`: the EventBridge-compatible server.

use super::CliError;
use crate::cli::ServeArgs;
use ferrule_server::{ServeOptions, serve};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4010";

pub fn run(args: ServeArgs) -> Result<i32, CliError> {
    serve(ServeOptions {
        listen: args.listen,
        data_dir: args.data_dir,
        config: args.config,
    })
    .map_err(CliError::fail)?;
    Ok(0)
}
