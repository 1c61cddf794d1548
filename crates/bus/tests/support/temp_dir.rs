//! A fresh directory under the system's temp dir, removed on drop; shared
//! by the integration tests (`support::temp_dir`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An empty directory, unique per process and call.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `ferrule-test-NAME-PID-N`, created empty.
    pub fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ferrule-test-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
