//! The stand-in's persistent state: environments, access tokens, signing keys
//! (public halves only) and live streams, kept as one JSON document in the
//! data directory.
//!
//! Design decisions:
//! - **One file, rewritten atomically.** Every change writes
//!   `state.json.tmp`, fsyncs it, renames it over `state.json` and fsyncs the
//!   directory, so a crash leaves either the old or the new state, never a torn
//!   one. The state is small (tens of records), so rewriting it whole is
//!   simpler than any journal.
//! - **Only public keys.** A signing key's private half is returned once, at
//!   creation, and never stored.
//! - **Access-token secrets are stored as SHA-256 hashes**, compared in
//!   constant time; the plain secret exists only in the creation response and
//!   in `bootstrap.json`.
//! - **Bootstrap.** An empty data directory gets a `development` and a
//!   `production` environment and one access token with System and Video
//!   permissions in `development`; its id and secret go to
//!   `DATA_DIR/bootstrap.json` (mode 0600 on Unix) for the operator.
//! - **Stream keys are unique secrets.** A new stream's key is redrawn until
//!   no other stream has it, and opening a state whose keys are empty or
//!   shared (a hand-edited file) gives those streams fresh keys, so a publish
//!   always finds at most one stream. Keys are compared in constant time.
//! - **One process per data directory.** [`Store::open`] takes an exclusive
//!   OS advisory lock (`flock` on Unix) on `DATA_DIR/standin.lock` and holds
//!   it as long as the store lives. Two stand-ins on one directory would
//!   each rewrite `state.json` from their own copy and lose each other's
//!   acknowledged writes, so a second one is refused with
//!   [`StoreError::Locked`]. The OS drops the lock when the process ends,
//!   however it ends (`kill -9` included): no stale lock to clean up.
//!   Within the process, the stand-in wraps the store in a mutex.
//! - **Private files.** Everything the stand-in writes holds a secret
//!   (stream keys are publish secrets, `bootstrap.json` an access token, the
//!   demo's key file a private key), so every file is created with mode
//!   0600, temporary files included (a stale one from a crash is removed,
//!   not reused with its old mode), files found with a looser mode are
//!   tightened on open, and a data directory the stand-in creates is 0700.
//!   An existing directory keeps its mode (it may be shared, like `/tmp`).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::utc;

const STATE_FILE: &str = "state.json";
const BOOTSTRAP_FILE: &str = "bootstrap.json";
/// Held locked while a stand-in uses the directory (see the module docs).
pub const LOCK_FILE: &str = "standin.lock";
const STATE_VERSION: u32 = 1;
/// Length of a stream key (alphanumeric, about 214 bits).
const STREAM_KEY_LEN: usize = 36;

/// What an access token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Manage signing keys (`/system/v1/...`).
    System,
    /// Manage live streams (`/video/v1/...`).
    Video,
}

/// An isolated set of keys and streams (like Mux's environments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Random id.
    pub id: String,
    /// Human name, unique: `development`, `production`.
    pub name: String,
}

/// An API credential; the secret is kept only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The public half of the Basic-auth pair.
    pub id: String,
    /// Hex SHA-256 of the secret.
    pub secret_sha256: String,
    /// Environment whose resources it manages.
    pub environment_id: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A signing key's public half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// The `kid` tokens name.
    pub id: String,
    /// Environment of the access token that created it.
    pub environment_id: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A live stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStream {
    /// The id tokens carry as `sub`.
    pub id: String,
    /// The secret an encoder publishes with (`rtmp://HOST:PORT/live/<key>`,
    /// see [`super::rtmp`]). Unique across the store, never empty.
    pub stream_key: String,
    /// Owning environment.
    pub environment_id: String,
    /// Simulated-encoder scenario, if any (see [`super::simulate`]). A
    /// simulated stream refuses real publishes.
    pub simulate: Option<String>,
    /// Free text the creator attached (Mux's `passthrough`); the demo finds
    /// its encoder stream by it. Absent in states written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// The plain id and secret of an access token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Access token id (Basic-auth user).
    pub access_token_id: String,
    /// Access token secret (Basic-auth password).
    pub access_token_secret: String,
    /// Name of the token's environment.
    pub environment: String,
}

impl Credentials {
    /// `id:secret`, as printed for the operator.
    pub fn pair(&self) -> String {
        format!("{}:{}", self.access_token_id, self.access_token_secret)
    }

    /// The value of an `Authorization` header for these credentials.
    pub fn basic_auth_header(&self) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.pair());
        format!("Basic {encoded}")
    }
}

/// Everything persisted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    environments: Vec<Environment>,
    access_tokens: Vec<AccessToken>,
    signing_keys: Vec<SigningKey>,
    live_streams: Vec<LiveStream>,
}

/// Why the store could not do something.
#[derive(Debug)]
pub enum StoreError {
    /// Reading or writing the data directory failed.
    Io(PathBuf, io::Error),
    /// `state.json` is not a state this version understands.
    Corrupt(PathBuf, String),
    /// No environment has that name.
    UnknownEnvironment(String),
    /// Another process (another stand-in) holds the data directory.
    Locked(PathBuf),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(path, error) => write!(f, "{}: {error}", path.display()),
            Self::Corrupt(path, why) => write!(f, "{}: unreadable state: {why}", path.display()),
            Self::UnknownEnvironment(name) => write!(f, "no environment named {name:?}"),
            Self::Locked(dir) => write!(
                f,
                "{} is in use by another stand-in (it holds {LOCK_FILE}); \
                 stop that one or choose another --data-dir",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {}

/// The state plus where it lives.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    state: State,
    /// The locked `standin.lock`; closing it releases the lock.
    _lock: File,
}

impl Store {
    /// Opens the data directory, creating and bootstrapping it when empty.
    /// Returns the bootstrap credentials when they were created just now.
    pub fn open(dir: &Path) -> Result<(Self, Option<Credentials>), StoreError> {
        create_private_dir(dir).map_err(|e| StoreError::Io(dir.to_owned(), e))?;
        let lock = lock_dir(dir)?;
        let path = dir.join(STATE_FILE);
        for name in [STATE_FILE, BOOTSTRAP_FILE] {
            make_private(&dir.join(name)).map_err(|e| StoreError::Io(dir.join(name), e))?;
        }
        match fs::read(&path) {
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Corrupt(path.clone(), e.to_string()))?;
                if state.version != STATE_VERSION {
                    return Err(StoreError::Corrupt(
                        path,
                        format!("version {} (expected {STATE_VERSION})", state.version),
                    ));
                }
                let mut store = Self {
                    dir: dir.to_owned(),
                    state,
                    _lock: lock,
                };
                if store.repair_stream_keys() {
                    store.save()?;
                }
                Ok((store, None))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let mut store = Self {
                    dir: dir.to_owned(),
                    state: State {
                        version: STATE_VERSION,
                        ..State::default()
                    },
                    _lock: lock,
                };
                let credentials = store.bootstrap()?;
                Ok((store, Some(credentials)))
            }
            Err(error) => Err(StoreError::Io(path, error)),
        }
    }

    fn bootstrap(&mut self) -> Result<Credentials, StoreError> {
        for name in ["development", "production"] {
            self.state.environments.push(Environment {
                id: random_id(12),
                name: name.to_owned(),
            });
        }
        let credentials =
            self.create_access_token("development", &[Permission::System, Permission::Video])?;
        let text = serde_json::to_string_pretty(&credentials).unwrap_or_default();
        write_atomically(&self.dir, BOOTSTRAP_FILE, text.as_bytes())?;
        Ok(credentials)
    }

    /// The credentials in `bootstrap.json`, if the file is there and readable.
    pub fn read_bootstrap(&self) -> Option<Credentials> {
        let bytes = fs::read(self.dir.join(BOOTSTRAP_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn save(&self) -> Result<(), StoreError> {
        let text = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| StoreError::Corrupt(self.dir.join(STATE_FILE), e.to_string()))?;
        write_atomically(&self.dir, STATE_FILE, &text)
    }

    /// The environment with that name.
    pub fn environment_named(&self, name: &str) -> Result<&Environment, StoreError> {
        self.state
            .environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| StoreError::UnknownEnvironment(name.to_owned()))
    }

    /// The environment with that id.
    pub fn environment(&self, id: &str) -> Option<&Environment> {
        self.state.environments.iter().find(|e| e.id == id)
    }

    /// Creates an access token in the named environment.
    pub fn create_access_token(
        &mut self,
        environment: &str,
        permissions: &[Permission],
    ) -> Result<Credentials, StoreError> {
        let environment_id = self.environment_named(environment)?.id.clone();
        let secret = random_id(40);
        let token = AccessToken {
            id: random_id(24),
            secret_sha256: sha256_hex(secret.as_bytes()),
            environment_id,
            permissions: permissions.to_vec(),
            created_at: utc::now_unix_secs(),
        };
        let credentials = Credentials {
            access_token_id: token.id.clone(),
            access_token_secret: secret,
            environment: environment.to_owned(),
        };
        self.state.access_tokens.push(token);
        self.save()?;
        Ok(credentials)
    }

    /// The access token with this id and secret, if both match.
    pub fn authenticate(&self, id: &str, secret: &str) -> Option<&AccessToken> {
        let hash = sha256_hex(secret.as_bytes());
        self.state
            .access_tokens
            .iter()
            .find(|t| t.id == id)
            .filter(|t| constant_time_eq(t.secret_sha256.as_bytes(), hash.as_bytes()))
    }

    /// Stores a new signing key's public half.
    pub fn add_signing_key(
        &mut self,
        environment_id: &str,
        public_key_pem: String,
    ) -> Result<SigningKey, StoreError> {
        let key = SigningKey {
            id: random_id(24),
            environment_id: environment_id.to_owned(),
            public_key_pem,
            created_at: utc::now_unix_secs(),
        };
        self.state.signing_keys.push(key.clone());
        self.save()?;
        Ok(key)
    }

    /// The signing key with this id, in any environment.
    pub fn signing_key(&self, id: &str) -> Option<&SigningKey> {
        self.state.signing_keys.iter().find(|k| k.id == id)
    }

    /// Signing keys of one environment, oldest first.
    pub fn signing_keys_in(&self, environment_id: &str) -> Vec<SigningKey> {
        self.state
            .signing_keys
            .iter()
            .filter(|k| k.environment_id == environment_id)
            .cloned()
            .collect()
    }

    /// Deletes a signing key of the given environment; false if there was none.
    pub fn delete_signing_key(
        &mut self,
        environment_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let before = self.state.signing_keys.len();
        self.state
            .signing_keys
            .retain(|k| !(k.id == id && k.environment_id == environment_id));
        if self.state.signing_keys.len() == before {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    /// Creates a live stream in an environment (by id).
    pub fn add_live_stream(
        &mut self,
        environment_id: &str,
        simulate: Option<String>,
        passthrough: Option<String>,
    ) -> Result<LiveStream, StoreError> {
        let stream = LiveStream {
            id: random_id(32),
            stream_key: self.unused_stream_key(),
            environment_id: environment_id.to_owned(),
            simulate,
            passthrough,
            created_at: utc::now_unix_secs(),
        };
        self.state.live_streams.push(stream.clone());
        self.save()?;
        Ok(stream)
    }

    /// The live stream with this id, in any environment.
    pub fn live_stream(&self, id: &str) -> Option<&LiveStream> {
        self.state.live_streams.iter().find(|s| s.id == id)
    }

    /// All live streams, oldest first.
    pub fn live_streams(&self) -> &[LiveStream] {
        &self.state.live_streams
    }

    /// The live stream an encoder publishing `stream_key` feeds. Every key
    /// is compared in full, so the time taken does not tell how much of a
    /// guess matched.
    pub fn live_stream_by_key(&self, stream_key: &str) -> Option<&LiveStream> {
        if stream_key.is_empty() {
            return None;
        }
        // A fold, not `find`: every key is compared, found or not.
        self.state.live_streams.iter().fold(None, |found, stream| {
            if constant_time_eq(stream.stream_key.as_bytes(), stream_key.as_bytes()) {
                Some(stream)
            } else {
                found
            }
        })
    }

    fn unused_stream_key(&self) -> String {
        loop {
            let key = random_id(STREAM_KEY_LEN);
            if !self.state.live_streams.iter().any(|s| s.stream_key == key) {
                return key;
            }
        }
    }

    /// Gives streams with an empty or shared key a fresh one; true if any
    /// changed.
    fn repair_stream_keys(&mut self) -> bool {
        let mut changed = false;
        for index in 0..self.state.live_streams.len() {
            let key = &self.state.live_streams[index].stream_key;
            let shared = self
                .state
                .live_streams
                .iter()
                .enumerate()
                .any(|(other, s)| other != index && &s.stream_key == key);
            if key.is_empty() || shared {
                self.state.live_streams[index].stream_key = self.unused_stream_key();
                changed = true;
            }
        }
        changed
    }
}

/// Writes `dir/name` via a temporary file, fsync and rename; the file is
/// private (0600 on Unix) from its first byte.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let target = dir.join(name);
    let temp = dir.join(format!("{name}.tmp"));
    let io = |e| StoreError::Io(target.clone(), e);
    // A temporary file left by a crash may have another owner's mode:
    // never write into it, start a new one.
    match fs::remove_file(&temp) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(io(error)),
        _ => {}
    }
    let mut file = private_options().open(&temp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&temp, &target).map_err(io)?;
    // Make the rename itself durable. Directories cannot be opened for
    // syncing everywhere; where they can't, the rename is still atomic.
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Options that create a new file readable by its owner only.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` (and missing parents) for its owner only; an existing
/// directory is left as it is.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Tightens an existing file to 0600 (written by an older version, or by
/// hand); a missing file is fine.
fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match fs::metadata(path) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
                fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            }
            Ok(_) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Opens `dir/standin.lock` and locks it exclusively, without waiting.
fn lock_dir(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let io = |e| StoreError::Io(path.clone(), e);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked(dir.to_owned())),
        Err(fs::TryLockError::Error(error)) => Err(io(error)),
    }
}

/// A random alphanumeric id of `len` characters from the OS generator.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        // 248 = 4 * 62: rejecting larger bytes keeps the choice uniform.
        for byte in bytes.into_iter().filter(|b| *b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lsh-store-{name}-{}", random_id(8)));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    impl Store {
        fn add_live_stream_for_test(&mut self) {
            let environment = self.state.environments[0].id.clone();
            self.add_live_stream(&environment, None, None)
                .expect("saved");
        }
    }

    #[test]
    fn bootstrap_creates_two_environments_and_a_private_credentials_file() {
        let dir = temp_dir("boot");
        let (store, credentials) = Store::open(&dir).expect("opens");
        let credentials = credentials.expect("bootstrapped");
        assert!(store.environment_named("development").is_ok());
        assert!(store.environment_named("production").is_ok());
        assert_eq!(store.read_bootstrap(), Some(credentials.clone()));
        let token = store
            .authenticate(
                &credentials.access_token_id,
                &credentials.access_token_secret,
            )
            .expect("authenticates");
        assert_eq!(
            token.permissions,
            vec![Permission::System, Permission::Video]
        );
        assert!(store
            .authenticate(&credentials.access_token_id, "wrong")
            .is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(BOOTSTRAP_FILE))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[cfg(unix)]
    #[test]
    fn everything_written_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let parent = temp_dir("modes");
        let dir = parent.join("data");
        let (mut store, _) = Store::open(&dir).expect("opens");
        store.add_live_stream_for_test();
        assert_eq!(mode(&dir), 0o700, "a data directory it creates");
        assert_eq!(mode(&parent), 0o700, "and the parents it creates");
        for name in [STATE_FILE, BOOTSTRAP_FILE, LOCK_FILE] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
        drop(store);

        // A state written world-readable (an older version, or by hand) and
        // a stale temporary file from a crash: both end up private.
        let loose = fs::Permissions::from_mode(0o644);
        fs::set_permissions(dir.join(STATE_FILE), loose.clone()).expect("chmod");
        fs::set_permissions(dir.join(BOOTSTRAP_FILE), loose.clone()).expect("chmod");
        let temp = dir.join(format!("{STATE_FILE}.tmp"));
        fs::write(&temp, "{}").expect("stale temp");
        fs::set_permissions(&temp, loose).expect("chmod");
        let (mut store, _) = Store::open(&dir).expect("reopens");
        assert_eq!(mode(&dir.join(STATE_FILE)), 0o600);
        assert_eq!(mode(&dir.join(BOOTSTRAP_FILE)), 0o600);
        store.add_live_stream_for_test();
        assert_eq!(mode(&dir.join(STATE_FILE)), 0o600, "after a save");
        assert!(!temp.exists());
        drop(store);
        let _ = fs::remove_dir_all(parent);
    }

    #[test]
    fn a_second_store_on_the_same_directory_is_refused_until_the_first_closes() {
        let dir = temp_dir("lock");
        let (first, _) = Store::open(&dir).expect("opens");
        match Store::open(&dir) {
            Err(StoreError::Locked(locked)) => assert_eq!(locked, dir),
            other => panic!("expected Locked, got {other:?}"),
        }
        let message = StoreError::Locked(dir.clone()).to_string();
        assert!(message.contains("in use by another stand-in"), "{message}");
        drop(first);
        let (again, credentials) = Store::open(&dir).expect("free again");
        assert!(credentials.is_none(), "the same state, not a new bootstrap");
        drop(again);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn reopening_keeps_everything_and_does_not_bootstrap_again() {
        let dir = temp_dir("reopen");
        let (mut store, _) = Store::open(&dir).expect("opens");
        let env = store
            .environment_named("production")
            .expect("env")
            .id
            .clone();
        let key = store
            .add_signing_key(&env, "PEM".to_owned())
            .expect("key added");
        let stream = store
            .add_live_stream(&env, Some("steady".to_owned()), Some("note".to_owned()))
            .expect("stream added");
        drop(store);
        let (store, credentials) = Store::open(&dir).expect("reopens");
        assert!(credentials.is_none());
        assert_eq!(store.signing_key(&key.id), Some(&key));
        assert_eq!(store.live_stream(&stream.id), Some(&stream));
        assert!(!dir.join("state.json.tmp").exists());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn stream_keys_are_unique_and_found_in_full_only() {
        let dir = temp_dir("keys");
        let (mut store, _) = Store::open(&dir).expect("opens");
        let env = store
            .environment_named("development")
            .expect("env")
            .id
            .clone();
        let a = store.add_live_stream(&env, None, None).expect("a");
        let b = store.add_live_stream(&env, None, None).expect("b");
        assert_eq!(a.stream_key.len(), STREAM_KEY_LEN);
        assert_ne!(a.stream_key, b.stream_key);
        assert_eq!(store.live_stream_by_key(&a.stream_key), Some(&a));
        assert_eq!(store.live_stream_by_key(&a.stream_key[..10]), None);
        assert_eq!(store.live_stream_by_key(""), None);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn opening_a_state_with_shared_or_empty_keys_gives_them_fresh_ones() {
        let dir = temp_dir("repair");
        let (mut store, _) = Store::open(&dir).expect("opens");
        let env = store
            .environment_named("development")
            .expect("env")
            .id
            .clone();
        for _ in 0..3 {
            store.add_live_stream(&env, None, None).expect("stream");
        }
        store.state.live_streams[1].stream_key = store.state.live_streams[0].stream_key.clone();
        store.state.live_streams[2].stream_key = String::new();
        store.save().expect("saved");
        drop(store);
        let (store, _) = Store::open(&dir).expect("reopens");
        let keys: Vec<&str> = store
            .live_streams()
            .iter()
            .map(|s| s.stream_key.as_str())
            .collect();
        assert!(keys.iter().all(|k| k.len() == STREAM_KEY_LEN), "{keys:?}");
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        // The repair is saved (one store at a time: the first one closes).
        let repaired = store.live_streams().to_vec();
        drop(store);
        let (again, _) = Store::open(&dir).expect("reopens");
        assert_eq!(again.live_streams(), repaired.as_slice());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn corrupt_state_is_an_error_not_a_reset() {
        let dir = temp_dir("corrupt");
        fs::create_dir_all(&dir).expect("dir");
        fs::write(dir.join(STATE_FILE), b"{not json").expect("write");
        assert!(matches!(Store::open(&dir), Err(StoreError::Corrupt(..))));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn random_ids_are_alphanumeric_and_distinct() {
        let a = random_id(24);
        let b = random_id(24);
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
