//! Bakes the location of libtorch (from the virtualenv's torch wheel) into the binary's rpath,
//! so `claimex` runs without LD_LIBRARY_PATH, in the build tree and once installed.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    // Without the torch feature there is no libtorch to find.
    if std::env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let lib_dir = match std::env::var("LIBTORCH") {
        Ok(root) => PathBuf::from(root).join("lib"),
        Err(_) => {
            // The same interpreter torch-sys asks: the virtualenv's when one is active.
            let python = if std::env::var_os("VIRTUAL_ENV").is_some() { "python" } else { "python3" };
            let out = Command::new(python)
                .args(["-c", "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"])
                .output()
                .unwrap_or_else(|e| panic!("cannot run {python} to locate torch: {e}"));
            assert!(out.status.success(), "{python} could not import torch: run `make setup` and activate .venv");
            PathBuf::from(String::from_utf8(out.stdout).expect("utf-8 path").trim())
        }
    };
    // Beside an installed binary first (scripts/install.sh puts its libraries there and then
    // keeps only that entry); in the build tree, the wheel's own folder.
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN/../lib/claimex:{}", lib_dir.display());
}
