//! The stand-in endpoint over real HTTP on 127.0.0.1: token checks, the
//! signing-key and live-stream APIs, persistence, CORS and simulated streams.
#![cfg(feature = "server")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use live_stream_health::server::standin::{self, Config, Running};
use live_stream_health::server::store::{Credentials, Permission};
use live_stream_health::server::token;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

/// A fresh, empty data directory for one test.
fn data_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "lsh-api-{name}-{}-{n}-{}",
        std::process::id(),
        now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn start(dir: &PathBuf, time_scale: f64, simulate: &[&str]) -> Running {
    let mut config = Config::new(dir);
    config.time_scale = time_scale;
    config.simulate = simulate.iter().map(|s| (*s).to_owned()).collect();
    standin::spawn(config).expect("stand-in starts")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status, selected headers (lower-case names) and body of a response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn reply(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = response.expect("request completes");
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    Reply {
        status: response.status().as_u16(),
        headers,
        body: response.body_mut().read_to_string().expect("body"),
    }
}

fn health(server: &Running, token: &str) -> Reply {
    reply(
        agent()
            .get(format!("{}?token={token}", server.endpoint()))
            .call(),
    )
}

fn counts(server: &Running, token: &str) -> Reply {
    reply(
        agent()
            .get(format!("{}?token={token}", server.counts_endpoint()))
            .call(),
    )
}

fn api_get(server: &Running, path: &str, credentials: Option<&Credentials>) -> Reply {
    let mut request = agent().get(format!("{}{path}", server.base_url()));
    if let Some(credentials) = credentials {
        request = request.header("Authorization", credentials.basic_auth_header());
    }
    reply(request.call())
}

fn api_post(server: &Running, path: &str, credentials: Option<&Credentials>, body: &str) -> Reply {
    let mut request = agent().post(format!("{}{path}", server.base_url()));
    if let Some(credentials) = credentials {
        request = request.header("Authorization", credentials.basic_auth_header());
    }
    reply(
        request
            .header("Content-Type", "application/json")
            .send(body),
    )
}

fn api_delete(server: &Running, path: &str, credentials: &Credentials) -> Reply {
    reply(
        agent()
            .delete(format!("{}{path}", server.base_url()))
            .header("Authorization", credentials.basic_auth_header())
            .call(),
    )
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The second, independent minter: RS256 by hand with `rsa` + `sha2`.
fn hand_mint(private_pem: &str, header: &Value, claims: &Value) -> String {
    let key = RsaPrivateKey::from_pkcs1_pem(private_pem).expect("PKCS#1 PEM");
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = signer.sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

fn rs256_header(kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        None => json!({"alg": "RS256", "typ": "JWT"}),
    }
}

fn claims(stream: &str, kid: Option<&str>, aud: &str, exp: i64) -> Value {
    let mut claims = json!({"sub": stream, "aud": aud, "exp": exp});
    if let Some(kid) = kid {
        claims["kid"] = json!(kid);
    }
    claims
}

fn assert_error(reply: &Reply, status: u16, token: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.body);
    let body = reply.json();
    assert!(body["error"]["type"].is_string(), "{case}: {body}");
    assert!(body["error"]["messages"][0].is_string(), "{case}: {body}");
    if token.len() > 8 {
        assert!(!reply.body.contains(token), "{case}: body echoes the token");
    }
}

#[test]
fn token_rejections_follow_the_matrix() {
    let dir = data_dir("reject");
    let server = start(&dir, 1.0, &[]);
    let dev_key = server.create_signing_key("development").expect("key");
    let prod_key = server.create_signing_key("production").expect("key");
    let stream = server
        .create_live_stream("development", None)
        .expect("stream");
    let kid = dev_key.id.as_str();
    let pem = dev_key.private_key_pem.as_str();
    let exp = now() + 600;

    let public_pem = RsaPrivateKey::from_pkcs1_pem(pem)
        .expect("pem")
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("public pem");
    let hs256_with_public_key = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(
            &header,
            &claims(&stream.id, Some(kid), "live_stream_id", exp),
            &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
        )
        .expect("hs256")
    };
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT", "kid": kid})
            .to_string()
            .as_bytes()),
        b64(claims(&stream.id, Some(kid), "live_stream_id", exp)
            .to_string()
            .as_bytes())
    );
    let other_key = {
        let key = RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("key");
        rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&key, LineEnding::LF)
            .expect("pem")
            .to_string()
    };
    let bad_signature = hand_mint(
        &other_key,
        &rs256_header(Some(kid)),
        &claims(&stream.id, Some(kid), "live_stream_id", exp),
    );
    let tampered = {
        let good = hand_mint(
            pem,
            &rs256_header(Some(kid)),
            &claims(&stream.id, Some(kid), "live_stream_id", exp),
        );
        let (message, _) = good.rsplit_once('.').expect("three parts");
        let (header, _) = message.split_once('.').expect("three parts");
        let other_claims = claims(&stream.id, Some(kid), "live_stream_id", exp + 100_000);
        let signature = good.rsplit('.').next().unwrap_or_default();
        format!(
            "{header}.{}.{signature}",
            b64(other_claims.to_string().as_bytes())
        )
    };
    let mint = |header: Value, claims: Value| hand_mint(pem, &header, &claims);

    // (case, token, status, a word the message must contain)
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("empty token", String::new(), 400, "required"),
        ("malformed", "not-a-jwt".to_owned(), 401, "malformed"),
        ("malformed parts", "a.b.c".to_owned(), 401, "malformed"),
        ("alg none", alg_none, 401, "RS256"),
        (
            "HS256 keyed with the public key PEM",
            hs256_with_public_key,
            401,
            "RS256",
        ),
        ("signed by another key", bad_signature, 401, "signature"),
        ("claims changed after signing", tampered, 401, "signature"),
        (
            "expired",
            mint(
                rs256_header(Some(kid)),
                claims(&stream.id, Some(kid), "live_stream_id", now() - 120),
            ),
            401,
            "expired",
        ),
        (
            "no exp",
            mint(
                rs256_header(Some(kid)),
                json!({"sub": stream.id, "aud": "live_stream_id", "kid": kid}),
            ),
            401,
            "exp",
        ),
        (
            "unknown kid",
            mint(
                rs256_header(Some("nosuchkey")),
                claims(&stream.id, Some("nosuchkey"), "live_stream_id", exp),
            ),
            401,
            "kid",
        ),
        (
            "no kid anywhere",
            mint(
                rs256_header(None),
                claims(&stream.id, None, "live_stream_id", exp),
            ),
            401,
            "kid",
        ),
        (
            "wrong aud",
            mint(
                rs256_header(Some(kid)),
                claims(&stream.id, Some(kid), "video_id", exp),
            ),
            403,
            "audience",
        ),
        (
            "an aud no endpoint takes",
            mint(
                rs256_header(Some(kid)),
                claims(&stream.id, Some(kid), "asset", exp),
            ),
            403,
            "audience",
        ),
        (
            "other environment",
            hand_mint(
                &prod_key.private_key_pem,
                &rs256_header(Some(&prod_key.id)),
                &claims(&stream.id, Some(&prod_key.id), "live_stream_id", exp),
            ),
            403,
            "environment",
        ),
        (
            "unknown stream",
            mint(
                rs256_header(Some(kid)),
                claims("nosuchstream", Some(kid), "live_stream_id", exp),
            ),
            404,
            "stream",
        ),
    ];
    for (case, token, status, word) in &cases {
        let reply = health(&server, token);
        assert_error(&reply, *status, token, case);
        let message = reply.json()["error"]["messages"][0].to_string();
        assert!(message.contains(word), "{case}: {message}");
        // The viewer counts endpoint checks tokens the same way, except
        // that it takes a video's token too: the stand-in has no videos.
        let (status, word) = match *case {
            "wrong aud" => (404, "video_id"),
            _ => (*status, *word),
        };
        let reply = counts(&server, token);
        assert_error(&reply, status, token, case);
        let message = reply.json()["error"]["messages"][0].to_string();
        assert!(message.contains(word), "counts, {case}: {message}");
    }

    for endpoint in [server.endpoint(), server.counts_endpoint()] {
        let missing = reply(agent().get(&endpoint).call());
        assert_error(&missing, 400, "", "missing token parameter");
    }

    let accepted: Vec<(&str, String)> = vec![
        (
            "kid in header only",
            mint(
                rs256_header(Some(kid)),
                claims(&stream.id, None, "live_stream_id", exp),
            ),
        ),
        (
            "kid in claims only",
            mint(
                rs256_header(None),
                claims(&stream.id, Some(kid), "live_stream_id", exp),
            ),
        ),
        (
            "expired within the 30 s leeway",
            mint(
                rs256_header(Some(kid)),
                claims(&stream.id, Some(kid), "live_stream_id", now() - 10),
            ),
        ),
        (
            "aud as an array",
            mint(
                rs256_header(Some(kid)),
                json!({"sub": stream.id, "aud": ["x", "live_stream_id"], "exp": exp}),
            ),
        ),
        (
            "minted by the token tool",
            token::mint(pem, kid, &stream.id, Duration::from_secs(600)).expect("mint"),
        ),
    ];
    for (case, token) in &accepted {
        let reply = health(&server, token);
        assert_eq!(reply.status, 200, "{case}: {}", reply.body);
        let ingest = &reply.json()["data"][0]["ingest_health"];
        assert_eq!(
            ingest["status"], "unknown",
            "{case}: never-connected stream"
        );
        assert!(ingest["stream_drift_session_avg"].is_null(), "{case}");
        let reply = counts(&server, token);
        assert_eq!(reply.status, 200, "counts, {case}: {}", reply.body);
        let entry = &reply.json()["data"][0];
        assert_eq!(
            (entry["viewers"].as_u64(), entry["views"].as_u64()),
            (Some(0), Some(0)),
            "counts, {case}: nobody watches a stream without an encoder"
        );
    }
    // For the other audiences the counts endpoint takes, the stand-in
    // knows no such thing.
    for audience in ["asset_id", "playback_id"] {
        let token = mint(
            rs256_header(Some(kid)),
            claims(&stream.id, Some(kid), audience, exp),
        );
        let reply = counts(&server, &token);
        assert_error(&reply, 404, &token, audience);
        assert!(reply.body.contains(audience), "{}", reply.body);
    }
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn signing_key_api_creates_lists_shows_and_deletes() {
    let dir = data_dir("keys");
    let server = start(&dir, 1.0, &[]);
    let admin = server.bootstrap().expect("bootstrap credentials").clone();
    let stream = server
        .create_live_stream("development", None)
        .expect("stream");

    // Authentication and permission.
    assert_eq!(
        api_post(&server, "/system/v1/signing-keys", None, "").status,
        401
    );
    let mut wrong = admin.clone();
    wrong.access_token_secret.push('x');
    assert_eq!(
        api_get(&server, "/system/v1/signing-keys", Some(&wrong)).status,
        401
    );
    let video_only = server
        .create_access_token("development", &[Permission::Video])
        .expect("token");
    let forbidden = api_post(&server, "/system/v1/signing-keys", Some(&video_only), "");
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);

    // Create: the private key comes back once, base64 of a PEM.
    let created = api_post(&server, "/system/v1/signing-keys", Some(&admin), "");
    assert_eq!(created.status, 201, "{}", created.body);
    let data = created.json()["data"].clone();
    let id = data["id"].as_str().expect("id").to_owned();
    assert!(data["created_at"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .is_some());
    let pem = String::from_utf8(
        STANDARD
            .decode(data["private_key"].as_str().expect("private_key"))
            .expect("base64"),
    )
    .expect("utf8");
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));

    // List and show never include the private key.
    let listed = api_get(&server, "/system/v1/signing-keys", Some(&admin));
    assert_eq!(listed.status, 200);
    assert!(listed.json()["data"]
        .as_array()
        .expect("array")
        .iter()
        .any(|k| k["id"] == id.as_str()));
    assert!(!listed.body.contains("private_key"));
    let shown = api_get(
        &server,
        &format!("/system/v1/signing-keys/{id}"),
        Some(&admin),
    );
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json()["data"]["id"], id.as_str());
    assert!(!shown.body.contains("private_key"));

    // A token signed with it works until the key is deleted.
    let jwt = token::mint(&pem, &id, &stream.id, Duration::from_secs(600)).expect("mint");
    assert_eq!(health(&server, &jwt).status, 200);
    let deleted = api_delete(&server, &format!("/system/v1/signing-keys/{id}"), &admin);
    assert_eq!(deleted.status, 204);
    assert_eq!(health(&server, &jwt).status, 401);
    assert_eq!(
        api_get(
            &server,
            &format!("/system/v1/signing-keys/{id}"),
            Some(&admin)
        )
        .status,
        404
    );

    // Keys take the environment of the access token that created them.
    let production = server
        .create_access_token("production", &[Permission::System])
        .expect("token");
    let prod_created = api_post(&server, "/system/v1/signing-keys", Some(&production), "");
    assert_eq!(prod_created.status, 201);
    let prod_data = prod_created.json()["data"].clone();
    let prod_id = prod_data["id"].as_str().expect("id");
    let prod_pem = String::from_utf8(
        STANDARD
            .decode(prod_data["private_key"].as_str().expect("key"))
            .expect("base64"),
    )
    .expect("utf8");
    let dev_list = api_get(&server, "/system/v1/signing-keys", Some(&admin));
    assert!(!dev_list.body.contains(prod_id));
    assert_eq!(
        api_get(
            &server,
            &format!("/system/v1/signing-keys/{prod_id}"),
            Some(&admin)
        )
        .status,
        404
    );
    let cross =
        token::mint(&prod_pem, prod_id, &stream.id, Duration::from_secs(600)).expect("mint");
    assert_eq!(health(&server, &cross).status, 403);
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn live_stream_api_creates_and_lists_streams() {
    let dir = data_dir("streams");
    let server = start(&dir, 1.0, &[]);
    let admin = server.bootstrap().expect("bootstrap").clone();
    assert_eq!(
        api_post(&server, "/video/v1/live-streams", None, "{}").status,
        401
    );
    let system_only = server
        .create_access_token("development", &[Permission::System])
        .expect("token");
    assert_eq!(
        api_post(&server, "/video/v1/live-streams", Some(&system_only), "{}").status,
        403
    );
    let bad = api_post(
        &server,
        "/video/v1/live-streams",
        Some(&admin),
        r#"{"simulate":"nonsense"}"#,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let created = api_post(
        &server,
        "/video/v1/live-streams",
        Some(&admin),
        r#"{"simulate":"steady","playback_policy":["public"]}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let data = created.json()["data"].clone();
    assert_eq!(data["status"], "idle");
    assert!(data["stream_key"].is_string());
    let id = data["id"].as_str().expect("id").to_owned();
    let plain = api_post(&server, "/video/v1/live-streams", Some(&admin), "");
    assert_eq!(plain.status, 201);
    let listed = api_get(&server, "/video/v1/live-streams", Some(&admin));
    assert_eq!(listed.status, 200);
    let streams = listed.json()["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(streams.len(), 2);
    assert!(streams
        .iter()
        .any(|s| s["id"] == id.as_str() && s["status"] == "active"));
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn state_survives_a_restart_and_old_tokens_keep_working() {
    let dir = data_dir("restart");
    let server = start(&dir, 1.0, &["steady"]);
    let admin = server.bootstrap().expect("bootstrap").clone();
    let stream = server.simulated_streams()[0].clone();
    let created = api_post(&server, "/system/v1/signing-keys", Some(&admin), "");
    let data = created.json()["data"].clone();
    let kid = data["id"].as_str().expect("id").to_owned();
    let pem = String::from_utf8(
        STANDARD
            .decode(data["private_key"].as_str().expect("key"))
            .expect("base64"),
    )
    .expect("utf8");
    let jwt = token::mint(&pem, &kid, &stream.id, Duration::from_secs(600)).expect("mint");
    assert_eq!(health(&server, &jwt).status, 200);
    server.shutdown().expect("stops");

    let again = start(&dir, 1.0, &["steady"]);
    assert_eq!(again.bootstrap(), Some(&admin));
    assert_eq!(
        again.simulated_streams()[0].id,
        stream.id,
        "reused, not duplicated"
    );
    let reply = health(&again, &jwt);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let keys = api_get(&again, "/system/v1/signing-keys", Some(&admin));
    assert_eq!(keys.status, 200);
    assert!(keys.body.contains(&kid));
    let state = std::fs::read_to_string(dir.join("state.json")).expect("state file");
    assert!(
        !state.contains("PRIVATE KEY"),
        "only public keys are stored"
    );
    assert!(
        !state.contains(&admin.access_token_secret),
        "secrets are hashed"
    );
    again.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cors_preflight_and_headers() {
    let dir = data_dir("cors");
    let server = start(&dir, 1.0, &[]);
    let preflight = reply(
        agent()
            .options(format!("{}?token=x", server.endpoint()))
            .header("Origin", "http://127.0.0.1:8080")
            .header("Access-Control-Request-Method", "GET")
            .call(),
    );
    assert!(preflight.status == 204 || preflight.status == 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight
        .header("access-control-allow-methods")
        .is_some_and(|m| m.contains("GET")));
    for rejected in [health(&server, "x.y.z"), counts(&server, "x.y.z")] {
        assert_eq!(rejected.header("access-control-allow-origin"), Some("*"));
        assert_eq!(rejected.header("cache-control"), Some("no-store"));
        assert_eq!(rejected.header("access-control-allow-credentials"), None);
    }
    let counts_preflight = reply(
        agent()
            .options(format!("{}?token=x", server.counts_endpoint()))
            .header("Origin", "http://127.0.0.1:8080")
            .header("Access-Control-Request-Method", "GET")
            .call(),
    );
    assert!(counts_preflight.status == 204 || counts_preflight.status == 200);
    assert_eq!(
        counts_preflight.header("access-control-allow-origin"),
        Some("*")
    );
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

/// Polls a stream until `done` holds for its ingest health or `limit` passes.
fn poll_until(
    server: &Running,
    jwt: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let reply = health(server, jwt);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let ingest = reply.json()["data"][0]["ingest_health"].clone();
        if done(&ingest) || Instant::now() > deadline {
            return ingest;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn simulated_scenarios_reach_their_statuses_at_a_high_time_scale() {
    let dir = data_dir("scenarios");
    // 100x: the 30 s window takes 0.3 s, the 3 minute timeout 1.8 s.
    let server = start(&dir, 100.0, &["steady", "congested", "disconnect"]);
    let key = server.create_signing_key("development").expect("key");
    let jwt_for = |index: usize| {
        let stream = &server.simulated_streams()[index];
        token::mint(
            &key.private_key_pem,
            &key.id,
            &stream.id,
            Duration::from_secs(600),
        )
        .expect("mint")
    };
    let (steady, congested, disconnect) = (jwt_for(0), jwt_for(1), jwt_for(2));

    let first = poll_until(&server, &steady, Duration::from_secs(5), |i| {
        i["status"] == "excellent"
    });
    assert_eq!(first["status"], "excellent", "{first}");
    assert!(first["stream_drift_session_avg"].is_i64());
    std::thread::sleep(Duration::from_millis(500));
    let later = poll_until(&server, &steady, Duration::ZERO, |_| true);
    let seconds = |v: &Value| {
        let t = v["updated_at"].as_str().unwrap_or_default().to_owned();
        assert_eq!(t.len(), 19, "{t}");
        let hms: Vec<i64> = t[11..].split(':').filter_map(|p| p.parse().ok()).collect();
        hms[0] * 3600 + hms[1] * 60 + hms[2]
    };
    let advanced = (seconds(&later) - seconds(&first)).rem_euclid(86_400);
    assert!(
        advanced >= 30,
        "updated_at runs on scaled time: {advanced}s"
    );
    assert_eq!(later["status"], "excellent");

    let poor = poll_until(&server, &congested, Duration::from_secs(8), |i| {
        i["status"] == "poor"
    });
    assert_eq!(poor["status"], "poor", "{poor}");
    assert!(poor["stream_drift_deviation_from_rolling_avg"]
        .as_i64()
        .is_some_and(|d| d.abs() > 1000));

    let unknown = poll_until(&server, &disconnect, Duration::from_secs(8), |i| {
        i["status"] == "unknown"
    });
    assert_eq!(unknown["status"], "unknown", "{unknown}");
    assert!(unknown["stream_drift_session_avg"].is_null());
    assert!(unknown["stream_drift_deviation_from_rolling_avg"].is_null());
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

/// Polls a stream's counts every 50 ms for `limit`; returns what it saw.
fn watch_counts(server: &Running, jwt: &str, limit: Duration) -> Vec<(u64, u64, String)> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let reply = counts(server, jwt);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let entry = reply.json()["data"][0].clone();
        seen.push((
            entry["viewers"].as_u64().expect("viewers"),
            entry["views"].as_u64().expect("views"),
            entry["updated_at"].as_str().unwrap_or_default().to_owned(),
        ));
        std::thread::sleep(Duration::from_millis(50));
    }
    seen
}

#[test]
fn simulated_streams_have_viewer_curves_that_follow_their_encoders() {
    let dir = data_dir("counts");
    // 100x: the scenario's first minute of connection takes 0.6 s.
    let server = start(&dir, 100.0, &["steady", "disconnect"]);
    let key = server.create_signing_key("development").expect("key");
    let jwt_for = |index: usize| {
        let stream = &server.simulated_streams()[index];
        token::mint(
            &key.private_key_pem,
            &key.id,
            &stream.id,
            Duration::from_secs(600),
        )
        .expect("mint")
    };
    let (steady, disconnect) = (jwt_for(0), jwt_for(1));

    // steady: a ramp, then a plateau; views never fall behind viewers.
    // The ramp lasts well under a second at 100x, so on a loaded machine
    // the watch may begin on the plateau: the rise is asserted only when
    // the first reading is still below it (the curve's exact shape is
    // checked at fixed scenario times by the audience module's own tests).
    let seen = watch_counts(&server, &steady, Duration::from_secs(3));
    let viewers: Vec<u64> = seen.iter().map(|s| s.0).collect();
    let first = viewers[0];
    let last = viewers[viewers.len() - 1];
    assert!(last >= 38, "no plateau: {viewers:?}");
    assert!(
        first >= 38 || last > first,
        "no ramp to the plateau: {viewers:?}"
    );
    assert!(
        seen.iter().all(|(viewers, views, _)| views >= viewers),
        "{seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[1].1 >= w[0].1),
        "views went down: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|(_, _, at)| at.len() == 20 && at.ends_with('Z')),
        "{seen:?}"
    );

    // disconnect: viewers while the encoder is there (60 s), none a minute
    // after it left. The cycle is 5 min (3 s at 100x): two cycles are
    // watched, so a peak with its outage after it is seen wherever in the
    // cycle the watch starts (one cycle, started in an outage, ended at the
    // next peak once on a loaded machine).
    let seen = watch_counts(&server, &disconnect, Duration::from_secs(6));
    let peak = seen.iter().map(|s| s.0).max().unwrap_or(0);
    assert!(peak > 20, "{seen:?}");
    let after_peak = seen.iter().skip_while(|s| s.0 < peak).skip(1);
    assert!(
        after_peak.clone().any(|s| s.0 == 0),
        "viewers did not drop after the outage: {seen:?}"
    );
    // Deterministic: the same scenario on another server of the same data
    // directory reads the same at the same scenario time (checked by the
    // pure tests); here, the counts stay whole numbers in the documented
    // order.
    let body = counts(&server, &disconnect).body;
    assert!(body.starts_with(r#"{"data":[{"views":"#), "{body}");
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}
