//! The `ferrule` command; see `ferrule --help` and the README.

fn main() {
    std::process::exit(ferrule_cli::run(std::env::args_os()));
}
