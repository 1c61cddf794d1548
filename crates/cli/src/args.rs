//! A small argument reader: `--flag value`, `--flag=value`, `--switch` and positionals.

use super::CliError;

/// The remaining arguments of a command.
#[derive(Debug)]
pub struct Args {
    items: Vec<String>,
}

impl Args {
    /// Wraps the arguments (program name excluded).
    pub fn new(items: Vec<String>) -> Args {
        Args { items }
    }

    /// Removes and returns the first argument that is not an option.
    pub fn next_positional(&mut self) -> Option<String> {
        let at = self
            .items
            .iter()
            .position(|a| !a.starts_with("--") || a == "-")?;
        Some(self.items.remove(at))
    }

    /// Removes `--name` and reports whether it was there.
    pub fn switch(&mut self, name: &str) -> bool {
        let flag = format!("--{name}");
        match self.items.iter().position(|a| *a == flag) {
            Some(at) => {
                self.items.remove(at);
                true
            }
            None => false,
        }
    }

    /// Removes `--name VALUE` or `--name=VALUE` and returns the value.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, CliError> {
        let flag = format!("--{name}");
        let prefix = format!("--{name}=");
        if let Some(at) = self.items.iter().position(|a| a.starts_with(&prefix)) {
            let item = self.items.remove(at);
            return Ok(Some(item[prefix.len()..].to_string()));
        }
        match self.items.iter().position(|a| *a == flag) {
            Some(at) => {
                if at + 1 >= self.items.len() {
                    return Err(CliError::usage(format!("{flag} needs a value")));
                }
                let value = self.items.remove(at + 1);
                self.items.remove(at);
                Ok(Some(value))
            }
            None => Ok(None),
        }
    }

    /// Fails if any argument is left over.
    pub fn finish(self) -> Result<(), CliError> {
        match self.items.first() {
            None => Ok(()),
            Some(extra) => Err(CliError::usage(format!("unexpected argument {extra:?}"))),
        }
    }
}
