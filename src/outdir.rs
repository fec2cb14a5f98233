//! The output folder, made safe to share: claimex runs on machines where other users and other
//! runs may touch the same folders.
//!
//! - One run at a time: an exclusive `flock` on `OUT/.claimex/lock`, taken before any work and
//!   held until the process ends; a second run fails at once naming the holder's pid.
//! - Its state lives only in real folders it owns: `OUT/.claimex`, `results/` and `tmp/` are
//!   created 0700 and must be folders (not symbolic links) owned by this user and writable by no
//!   one else; otherwise the run refuses to start and names the path.
//! - Every file it writes is created new under a random name in `OUT/.claimex/tmp` (O_EXCL, mode
//!   0600, via `tempfile`), synced, and renamed over its destination: a symbolic link planted at
//!   the destination is replaced, never followed. What an interrupted run left in `tmp/` is
//!   removed at the next start.
//! - Its own files are read without following symbolic links.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use regex::Regex;
use sha2::{Digest, Sha256};

use crate::document::printable;

/// Names of the files an older claimex wrote its temporary output under; removed at start.
const LEGACY_PARTIAL: &str = r"^\.(claims\.jsonl|documents\.jsonl|manifest\.json|index\.json|[0-9a-f]{64}\.json)\.[0-9]+\.partial$";

pub struct OutputDir {
    dir: PathBuf,
    state: PathBuf,
    /// Holds the flock for as long as the run lives.
    _lock: File,
}

impl OutputDir {
    /// Creates (if needed), checks and locks the output folder `dir`, cleans what an interrupted
    /// run left, and checks that `dir` takes new files: all before any model is loaded.
    pub fn open(dir: &Path) -> Result<OutputDir> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create the output folder {}", printable(&dir.display().to_string())))?;
        if !dir.is_dir() {
            bail!("the output folder {} is not a folder", show(dir));
        }
        let state = dir.join(".claimex");
        own_dir(&state)?;
        let lock = lock(&state.join("lock"))?;
        own_dir(&state.join("results"))?;
        own_dir(&state.join("tmp"))?;
        let out = OutputDir { dir: dir.to_path_buf(), state, _lock: lock };
        out.remove_leftovers()?;
        tempfile::Builder::new()
            .prefix(".claimex-probe")
            .tempfile_in(dir)
            .with_context(|| format!("the output folder {} is not writable", show(dir)))?;
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `OUT/.claimex/<name>`.
    pub fn state(&self, name: &str) -> PathBuf {
        self.state.join(name)
    }

    /// A new file for `dest` (a path in the output folder or its state), written under a
    /// temporary name and renamed into place by [`Pending::commit`]. `mode` is its permission.
    pub fn create(&self, dest: PathBuf, mode: u32) -> Result<Pending> {
        let tmp = tempfile::Builder::new()
            .prefix("write")
            .tempfile_in(self.state.join("tmp"))
            .with_context(|| format!("cannot create a temporary file for {}", show(&dest)))?;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
        Ok(Pending { out: BufWriter::new(tmp), dest, hash: Sha256::new(), bytes: 0 })
    }

    /// Writes `dest` whole or not at all.
    pub fn write_atomic(&self, dest: PathBuf, bytes: &[u8], mode: u32) -> Result<()> {
        let mut file = self.create(dest, mode)?;
        file.write(bytes)?;
        file.commit()
    }

    /// Makes the renames of committed files durable.
    pub fn sync(&self) {
        for d in [&self.dir, &self.state, &self.state.join("results")] {
            File::open(d).and_then(|d| d.sync_all()).ok();
        }
    }

    /// Temporary files of interrupted runs: everything in `tmp/`, and the partial files older
    /// versions wrote beside their destinations.
    fn remove_leftovers(&self) -> Result<()> {
        let legacy = Regex::new(LEGACY_PARTIAL).expect("pattern");
        let mut doomed = Vec::new();
        for entry in fs::read_dir(self.state.join("tmp"))?.flatten() {
            doomed.push(entry.path());
        }
        for d in [&self.dir, &self.state, &self.state.join("results")] {
            for entry in fs::read_dir(d)?.flatten() {
                if legacy.is_match(&entry.file_name().to_string_lossy()) {
                    doomed.push(entry.path());
                }
            }
        }
        for path in doomed {
            // Only files and links are ours to remove (a link goes, its target stays).
            if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&path).with_context(|| format!("cannot remove the leftover {}", show(&path)))?;
            }
        }
        Ok(())
    }
}

/// A file being written under a temporary name; its sha256 and size are kept as it goes.
pub struct Pending {
    out: BufWriter<tempfile::NamedTempFile>,
    dest: PathBuf,
    hash: Sha256,
    bytes: u64,
}

impl Pending {
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hash.update(bytes);
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes).with_context(|| format!("cannot write {}", show(&self.dest)))
    }

    /// Flushes and syncs the file, so that only the rename is left to do.
    pub fn finish(&mut self) -> Result<()> {
        self.out.flush().and_then(|_| self.out.get_ref().as_file().sync_all()).with_context(|| format!("cannot write {}", show(&self.dest)))
    }

    /// The sha256 and size of what was written.
    pub fn digest(&self) -> (String, u64) {
        (format!("{:x}", self.hash.clone().finalize()), self.bytes)
    }

    /// Renames the file over its destination (after [`Pending::finish`]).
    pub fn commit(mut self) -> Result<()> {
        self.finish()?;
        let Pending { out, dest, .. } = self;
        let tmp = out.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write {}", show(&dest)))?;
        tmp.persist(&dest).map_err(|e| e.error).with_context(|| format!("cannot write {}", show(&dest)))?;
        Ok(())
    }
}

/// Reads one of claimex's own files; a symbolic link or anything but a plain file is refused.
/// `Ok(None)` when it does not exist.
pub fn read_own(path: &Path) -> Result<Option<Vec<u8>>> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => bail!("{} is a symbolic link", show(path)),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", show(path))),
    };
    if !file.metadata()?.is_file() {
        bail!("{} is not a plain file", show(path));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).with_context(|| format!("cannot read {}", show(path)))?;
    Ok(Some(bytes))
}

/// `path` is a folder of ours: created 0700 when missing; otherwise a real folder (not a link),
/// owned by this user, writable by no one else.
fn own_dir(path: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::DirBuilder::new().mode(0o700).create(path).with_context(|| format!("cannot create {}", show(path)))?;
            fs::symlink_metadata(path)?
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", show(path))),
        Ok(m) => m,
    };
    let refuse = if meta.file_type().is_symlink() {
        "is a symbolic link"
    } else if !meta.is_dir() {
        "is not a folder"
    } else if meta.uid() != unsafe { libc::geteuid() } {
        "belongs to another user"
    } else if meta.mode() & 0o022 != 0 {
        "is writable by other users"
    } else {
        return Ok(());
    };
    bail!("{} {refuse}; claimex keeps its state only in a folder of its own: remove it, or choose another --out", show(path))
}

/// Takes the exclusive lock on `path`, or says who holds it.
fn lock(path: &Path) -> Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", show(path)))?;
    if !file.metadata()?.is_file() {
        bail!("{} is not a plain file", show(path));
    }
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim().parse::<u32>().map(|p| format!(" (pid {p})")).unwrap_or_default();
            let dir = path.parent().and_then(Path::parent).unwrap_or(path);
            bail!("another claimex run{holder} is writing to {}; wait for it to finish or choose another --out", show(dir));
        }
        return Err(err).with_context(|| format!("cannot lock {}", show(path)));
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

fn show(path: &Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_opener_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let _first = OutputDir::open(dir.path()).unwrap();
        // flock locks belong to the open file description: a second open in this process conflicts too.
        let err = OutputDir::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
    }

    #[test]
    fn state_folders_that_are_links_or_shared_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("a.txt"), "keep").unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(out.join(".claimex")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join(".claimex/results")).unwrap();
        let err = OutputDir::open(&out).err().unwrap().to_string();
        assert!(err.contains("results is a symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(elsewhere.join("a.txt")).unwrap(), "keep");

        let shared = dir.path().join("shared");
        fs::create_dir_all(shared.join(".claimex")).unwrap();
        fs::set_permissions(shared.join(".claimex"), fs::Permissions::from_mode(0o777)).unwrap();
        let err = OutputDir::open(&shared).err().unwrap().to_string();
        assert!(err.contains("writable by other users"), "{err}");
    }

    #[test]
    fn writes_replace_a_planted_link_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, "keep").unwrap();
        let out = OutputDir::open(&dir.path().join("out")).unwrap();
        let dest = out.path().join("claims.jsonl");
        std::os::unix::fs::symlink(&victim, &dest).unwrap();
        out.write_atomic(dest.clone(), b"new\n", 0o644).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert!(fs::symlink_metadata(&dest).unwrap().is_file());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "new\n");
    }

    #[test]
    fn leftovers_of_interrupted_runs_are_removed_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let outdir = dir.path().join("out");
        drop(OutputDir::open(&outdir).unwrap());
        fs::write(outdir.join(".claimex/tmp/write123"), "half").unwrap();
        fs::write(outdir.join(".claims.jsonl.4242.partial"), "half").unwrap();
        fs::write(outdir.join("notes.txt"), "the user's").unwrap();
        let out = OutputDir::open(&outdir).unwrap();
        assert_eq!(fs::read_dir(out.state("tmp")).unwrap().count(), 0);
        assert!(!outdir.join(".claims.jsonl.4242.partial").exists());
        assert!(outdir.join("notes.txt").exists());
    }

    #[test]
    fn own_files_are_read_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
        assert_eq!(read_own(&dir.path().join("a")).unwrap().unwrap(), b"x");
        assert!(read_own(&dir.path().join("b")).unwrap_err().to_string().contains("symbolic link"));
        assert!(read_own(&dir.path().join("c")).unwrap().is_none());
    }
}
