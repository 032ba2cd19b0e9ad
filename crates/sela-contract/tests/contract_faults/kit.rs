//! Helpers of the fault servers for the lead operations: a request with a
//! rewritten body, every lead of the first account, and a paginator of its
//! own (for listing faults and harmless listing variations).

use sela_leads::rules::identity;
use sela_sandbox::SandboxState;
use serde_json::{Value, json};

use crate::server::{Req, Resp};

/// The same request with `body` as its JSON body.
pub fn with_body(req: &Req, body: &Value) -> Req {
    Req {
        body: body.to_string().into_bytes(),
        ..req.clone()
    }
}

/// True for a write with a JSON body (POST, PATCH, PUT).
pub fn is_write(req: &Req) -> bool {
    matches!(req.method.as_str(), "POST" | "PATCH" | "PUT")
}

/// `PATCH /api/leads/{id}/`, when `req` is one.
pub fn patch_id(req: &Req) -> Option<i64> {
    if req.method != "PATCH" {
        return None;
    }
    req.path()
        .strip_prefix("/api/leads/")?
        .strip_suffix('/')?
        .parse()
        .ok()
}

/// True for `POST /api/leads/` (single create).
pub fn is_single_create(req: &Req) -> bool {
    req.method == "POST" && req.path() == "/api/leads/"
}

/// The stored lead of the first account with this identity.
pub fn stored(state: &SandboxState, item: &Value) -> Option<(i64, Value)> {
    let who = identity(item)?;
    let model = state.lock();
    let id = model.find(&who)?;
    Some((id, model.get(id)?))
}

/// Reads by id answered from `cache`, filled on each lead's first read (per
/// account) and never invalidated: an older version of the lead after any
/// write. `None` for any other request.
pub fn cached_read(
    cache: &std::sync::Mutex<std::collections::HashMap<(String, i64), Resp>>,
    state: &SandboxState,
    req: &Req,
) -> Option<Resp> {
    let id = crate::common::lead_id(req)?;
    let key = (req.header("authorization").unwrap_or("").to_owned(), id);
    if let Some(hit) = cache.lock().unwrap().get(&key) {
        return Some(hit.clone());
    }
    let resp: Resp = crate::common::sandbox_answer(state, req).into();
    if resp.status == 200 {
        cache.lock().unwrap().insert(key, resp.clone());
    }
    Some(resp)
}

/// True for `GET /api/leads/` (the list).
pub fn is_list(req: &Req) -> bool {
    req.method == "GET" && req.path() == "/api/leads/"
}

/// Every lead of the first account, ids ascending.
pub fn all_leads(state: &SandboxState) -> Vec<Value> {
    let model = state.lock();
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let Ok(body) = model.list(Some(&page.to_string()), Some("1000"), "http://x/") else {
            return out;
        };
        let results = body["results"].as_array().cloned().unwrap_or_default();
        let done = body["next"].is_null();
        out.extend(results);
        if done {
            return out;
        }
        page += 1;
    }
}

/// How a paginator of our own lists.
#[derive(Clone, Copy, Default)]
pub struct Paging {
    /// Newest first.
    pub newest_first: bool,
    /// The largest page size honoured.
    pub cap: Option<usize>,
    /// Pages after the first start one lead early (an off-by-one offset).
    pub off_by_one: bool,
    /// `count` says this many more than there are.
    pub count_extra: u64,
}

/// `GET /api/leads/?page=&page_size=` answered by our paginator over the
/// first account's leads.
pub fn list_page(state: &SandboxState, req: &Req, base: &str, paging: Paging) -> Resp {
    let query = req.uri.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.parse::<usize>().ok()).flatten()
        })
    };
    let mut leads = all_leads(state);
    if paging.newest_first {
        leads.reverse();
    }
    let size = param("page_size")
        .unwrap_or(50)
        .clamp(1, paging.cap.unwrap_or(1000));
    let page = param("page").unwrap_or(1).max(1);
    let mut start = (page - 1) * size;
    if paging.off_by_one && page > 1 {
        start -= 1;
    }
    let results: Vec<Value> = leads.iter().skip(start).take(size).cloned().collect();
    let next = (start + size < leads.len())
        .then(|| format!("{base}api/leads/?page={}&page_size={size}", page + 1));
    let previous =
        (page > 1).then(|| format!("{base}api/leads/?page={}&page_size={size}", page - 1));
    Resp::json(
        200,
        &json!({
            "count": leads.len() as u64 + paging.count_extra,
            "next": next,
            "previous": previous,
            "results": results,
        }),
    )
}

/// The base URL a request was sent to, from its `Host`.
pub fn base_of(req: &Req) -> String {
    format!("http://{}/", req.header("host").unwrap_or("127.0.0.1"))
}

/// Applies `f` to every string and number inside `v`.
pub fn map_leaves(v: &mut Value, f: &impl Fn(&mut Value)) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|x| map_leaves(x, f)),
        Value::Object(map) => map.values_mut().for_each(|x| map_leaves(x, f)),
        _ => f(v),
    }
}

/// The first-account leads that the identities of a create request name
/// (bulk items, or a single create's body): id and the lead as stored.
pub fn named_leads(state: &SandboxState, req: &Req) -> Vec<(i64, Value)> {
    let items = if crate::common::is_bulk(req) {
        crate::common::leads_of(req).unwrap_or_default()
    } else if is_single_create(req) {
        req.json().into_iter().collect()
    } else {
        Vec::new()
    };
    let model = state.lock();
    items
        .iter()
        .filter_map(|item| {
            let id = model.find(&sela_sandbox::identity(item)?)?;
            Some((id, model.get(id)?))
        })
        .collect()
}
