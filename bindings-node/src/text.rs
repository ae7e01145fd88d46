//! Text tasks: `embed`, `chat`, `generate`, `chatStream` and `registerOllama`. Mirrors the
//! core's `engine::text` and `backend::ollama`.
//!
//! The generation runs on the libuv pool. Pieces reach JavaScript without the worker ever
//! waiting for it:
//!
//! - `chat` / `generate` with `onToken`: the worker queues each piece and wakes the JS thread
//!   through a non-blocking ThreadsafeFunction; on the JS thread the queue is drained into
//!   `onToken`, and the Promise settles only after the last piece was delivered. `onToken`
//!   returning `false` or throwing stops the answer at the next piece.
//! - `chatStream`: an async iterator; `next()` takes a queued piece or leaves a deferred Promise
//!   the worker settles with the next one.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};

use harper_edge_core::backend::ollama::{OllamaMode, OllamaModel};
use harper_edge_core::backend::{ChatMessage, Prompt};
use harper_edge_core::{
    Error as CoreError, Framework, GenerateResult, InferContext, ModelRef, ModelRegistration, Stage,
};
use napi::bindgen_prelude::{
    AsyncTask, ClassInstance, Float32Array, Function, FunctionCallContext, FunctionRef,
    JavaScriptClassExt, JsObjectValue, Object, Unknown,
};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, JsDeferred, JsValue, ValueType};
use napi_derive::napi;
use serde_json::{Value, json};

use crate::convert::{self, decode};
use crate::engine::Engine;
use crate::error::{CoreResult, guarded};
use crate::tasks::{Job, work};
use crate::telemetry::record;

/// The answer of `embed`.
#[napi(object, object_from_js = false)]
pub struct Embeddings {
    /// Id of the recorded `InferenceEvent`.
    pub inference_id: String,
    /// Model name.
    pub model_name: String,
    /// Model version that answered.
    pub model_version: String,
    /// How many vectors: one per text.
    pub count: u32,
    /// Their dimension.
    pub dim: u32,
    /// The vectors, row-major: vector `i` is `data.subarray(i * dim, (i + 1) * dim)`.
    pub data: Float32Array,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
}

impl std::fmt::Debug for Embeddings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embeddings").field("count", &self.count).field("dim", &self.dim).finish()
    }
}

/// Options of `chat`, `generate` and `chatStream`.
#[napi(object, object_to_js = false)]
pub struct ChatOptions {
    /// A system message sent first (`chat`, `chatStream`).
    pub system: Option<String>,
    /// Called with each piece of the answer, in order, on the JS thread (`chat`, `generate`).
    #[napi(ts_type = "(piece: string) => unknown")]
    pub on_token: Option<Unknown<'static>>,
}

/// Options of `registerOllama`.
#[napi(object, object_to_js = false)]
pub struct OllamaOptions {
    /// What the model is used for (default `"chat"`).
    #[napi(ts_type = "'embeddings' | 'chat' | 'generate'")]
    pub mode: Option<String>,
    /// The daemon: `host:port`, `:port` or a URL (default `OLLAMA_HOST`, else
    /// `http://127.0.0.1:11434`).
    pub host: Option<String>,
    /// Ollama `options` sent with every request (`temperature`, `num_ctx`, `seed`, …).
    #[napi(ts_type = "Record<string, unknown>")]
    pub options: Option<Value>,
    /// Longest wait for any single read, in milliseconds (default 120000).
    pub read_timeout_ms: Option<f64>,
    /// Lifecycle stage (default "candidate").
    #[napi(ts_type = "Stage")]
    pub stage: Option<String>,
    /// Free-form metadata (taskType, description, …).
    #[napi(ts_type = "Record<string, unknown>")]
    pub metadata: Option<Value>,
}

/// What a generation is asked.
enum Ask {
    Text(String),
    Chat(Vec<ChatMessage>),
}

impl Ask {
    fn prompt(&self) -> Prompt<'_> {
        match self {
            Ask::Text(t) => Prompt::Text(t),
            Ask::Chat(m) => Prompt::Chat(m),
        }
    }
}

const MESSAGES: &str = "a string or an array of { role, content } objects";

/// A prompt string or an array of messages, `system` first when given.
fn ask_chat(value: &Unknown<'_>, system: Option<String>) -> CoreResult<Ask> {
    let mut messages: Vec<ChatMessage> =
        system.map(|s| ChatMessage::new("system", s)).into_iter().collect();
    if matches!(value.get_type(), Ok(ValueType::String)) {
        messages.push(ChatMessage::user(decode::<String>(value, "prompt", "a string")?));
    } else {
        let json = convert::json(value, "promptOrMessages")?;
        let list: Vec<ChatMessage> = serde_json::from_value(json).map_err(|e| {
            CoreError::invalid_input(format!("promptOrMessages must be {MESSAGES}: {e}"))
        })?;
        messages.extend(list);
    }
    if messages.is_empty() {
        return Err(CoreError::invalid_input("chat needs at least one message"));
    }
    Ok(Ask::Chat(messages))
}

/// A JS `onToken(piece)` callback, kept across the call.
type TokenCallback = FunctionRef<String, Unknown<'static>>;

fn chat_options(
    value: &Unknown<'_>,
    expected: &str,
) -> CoreResult<(Option<String>, Option<TokenCallback>)> {
    let Some(options) = convert::object::<ChatOptions>(value, "options", expected)? else {
        return Ok((None, None));
    };
    let on_token = match options.on_token {
        Some(f) if !convert::is_nullish(&f) => {
            if !matches!(f.get_type(), Ok(ValueType::Function)) {
                return Err(CoreError::invalid_input("options.onToken must be a function"));
            }
            let function: Function<'_, String, Unknown<'static>> =
                decode(&f, "options.onToken", "a function")?;
            Some(function.create_ref().map_err(internal)?)
        }
        _ => None,
    };
    Ok((options.system, on_token))
}

fn internal(e: napi::Error) -> CoreError {
    CoreError::Internal { message: format!("napi: {e}") }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A core error kept for several rejections (the core's error is not `Clone`).
#[derive(Clone)]
struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    fn of(e: &CoreError) -> Self {
        Failure { code: e.kind().code(), message: e.full_message() }
    }

    fn reject(&self, env: &Env) -> napi::Error {
        let built = env
            .create_error(napi::Error::new(napi::Status::GenericFailure, self.message.clone()))
            .and_then(|mut object| {
                object.set_named_property("code", self.code)?;
                Ok(napi::Error::from(object.to_unknown()))
            });
        built.unwrap_or_else(|_| {
            napi::Error::new(napi::Status::GenericFailure, self.message.clone())
        })
    }
}

type Resolver = Box<dyn FnOnce(Env) -> napi::Result<Value> + Send>;
type Deferred = JsDeferred<Value, Resolver>;

fn settle(deferred: Deferred, outcome: Result<Value, Failure>) {
    match outcome {
        Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
        Err(f) => deferred.resolve(Box::new(move |env| Err(f.reject(&env)))),
    }
}

fn result_value(result: &Result<GenerateResult, Failure>) -> Result<Value, Failure> {
    match result {
        Ok(r) => record(r).map_err(|e| Failure::of(&e)),
        Err(f) => Err(f.clone()),
    }
}

/// The state a `chat` with `onToken` shares between the worker and the JS thread.
#[derive(Default)]
struct Push {
    pieces: VecDeque<String>,
    finished: Option<CoreResult<GenerateResult>>,
    stop: bool,
}

type Wake = ThreadsafeFunction<(), (), (), napi::Status, false, false>;

#[napi]
impl Engine {
    /// Embeds `texts` with an embeddings model, all in one call of the model, on the libuv
    /// pool: an Ollama model registered with `mode: 'embeddings'` (one `/api/embed` request),
    /// or a token-id text encoder (BERT family, e.g. a sentence-transformers MiniLM ONNX)
    /// registered with the `tokenizer.json` of its directory, as `fetchModel` of that
    /// directory registers it (tract backend; the texts are tokenized and padded to the
    /// longest one, run as one batch, mean-pooled and L2-normalised). Resolves with the
    /// vectors as one `Float32Array` (row-major, `count × dim`, the core's buffer without a
    /// copy). The call is recorded. An empty array is `HARPER_EDGE_INVALID_INPUT`; an encoder
    /// without its `tokenizer.json` is `HARPER_EDGE_MODEL_LOAD`.
    #[napi(ts_args_type = "model: string, texts: string[]", ts_return_type = "Promise<Embeddings>")]
    pub fn embed(&self, model: Unknown<'_>, texts: Unknown<'_>) -> AsyncTask<Job<Embeddings>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let reference = convert::model_ref(&model)?;
            if matches!(texts.get_type(), Ok(ValueType::String)) {
                return Err(CoreError::invalid_input(
                    "texts must be an array of strings, got a string (wrap one text: [text])",
                ));
            }
            let texts: Vec<String> = decode(&texts, "texts", "an array of strings")?;
            Ok(work(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let e = engine.embed(&reference, &refs, &InferContext::new())?;
                let size = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                Ok(Embeddings {
                    inference_id: e.inference_id,
                    model_name: e.model_name,
                    model_version: e.model_version,
                    count: size(e.count),
                    dim: size(e.dim),
                    data: Float32Array::new(e.vectors),
                    latency_ms: e.latency_ms,
                })
            }))
        })();
        AsyncTask::new(Job::new(prepared))
    }

    /// Asks a chat model (an Ollama `chat` or `generate` model) to answer `promptOrMessages`:
    /// a prompt string, or an array of `{ role, content }` messages, oldest first
    /// (`options.system` is sent first). The answer streams on the libuv pool; each piece is
    /// passed to `options.onToken` on the JS thread, in order, before the Promise resolves with
    /// the `GenerateResult`. `onToken` returning `false` stops the answer (`doneReason:
    /// 'cancelled'`); throwing stops it too and rejects the Promise with what was thrown. The
    /// call is recorded like any inference.
    #[napi(
        ts_args_type = "model: string, promptOrMessages: string | ChatMessage[], options?: ChatOptions",
        ts_return_type = "Promise<GenerateResult>"
    )]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        model: Unknown<'_>,
        prompt_or_messages: Unknown<'_>,
        options: Unknown<'_>,
    ) -> napi::Result<Object<'env>> {
        let prepared = (|| {
            let (system, on_token) = chat_options(&options, "an object { system?, onToken? }")?;
            Ok((convert::model_ref(&model)?, ask_chat(&prompt_or_messages, system)?, on_token))
        })();
        self.push(env, prepared)
    }

    /// Asks a text-generating model to complete `prompt` (an Ollama `generate` model uses
    /// `/api/generate`; a `chat` model gets it as one user message). Streams to
    /// `options.onToken`, stops and resolves as `chat`.
    #[napi(
        ts_args_type = "model: string, prompt: string, options?: GenerateOptions",
        ts_return_type = "Promise<GenerateResult>"
    )]
    pub fn generate<'env>(
        &self,
        env: &'env Env,
        model: Unknown<'_>,
        prompt: Unknown<'_>,
        options: Unknown<'_>,
    ) -> napi::Result<Object<'env>> {
        let prepared = (|| {
            let (_, on_token) = chat_options(&options, "an object { onToken? }")?;
            let prompt: String = decode(&prompt, "prompt", "a string")?;
            Ok((convert::model_ref(&model)?, Ask::Text(prompt), on_token))
        })();
        self.push(env, prepared)
    }

    /// `chat` as an async iterator of the answer's pieces: `for await (const piece of
    /// stream)`, then `await stream.result` for the `GenerateResult`. Breaking out of the loop
    /// (`return()`) stops the answer (`doneReason: 'cancelled'`). A failure rejects the
    /// pending `next()` (the loop throws) and `result`. The answer starts streaming at once, on
    /// the libuv pool; pieces not yet read are buffered.
    #[napi(
        ts_args_type = "model: string, promptOrMessages: string | ChatMessage[], options?: ChatStreamOptions",
        ts_return_type = "ChatStream"
    )]
    pub fn chat_stream<'env>(
        &self,
        env: &'env Env,
        model: Unknown<'_>,
        prompt_or_messages: Unknown<'_>,
        options: Unknown<'_>,
    ) -> napi::Result<ClassInstance<'env, ChatStream>> {
        let state = Arc::new(Mutex::new(Pull::default()));
        let prepared = (|| {
            let (system, _) = chat_options(&options, "an object { system? }")?;
            Ok((convert::model_ref(&model)?, ask_chat(&prompt_or_messages, system)?))
        })();
        match prepared {
            Ok((reference, ask)) => {
                let engine = Arc::clone(&self.engine);
                let shared = Arc::clone(&state);
                let task = Job::new(Ok(work(move || {
                    let result = guarded(|| {
                        engine.generate(
                            &reference,
                            &ask.prompt(),
                            &InferContext::new(),
                            &mut |piece| {
                                let mut s = lock(&shared);
                                if s.stopped {
                                    return false;
                                }
                                match s.waiting.pop_front() {
                                    Some(d) => settle(d, Ok(item(piece))),
                                    None => s.pieces.push_back(piece.to_string()),
                                }
                                true
                            },
                        )
                    });
                    lock(&shared).finish(result.map_err(|e| Failure::of(&e)));
                    Ok(())
                })));
                env.spawn(task)?;
            }
            // Arguments that do not decode fail the iteration and `result`, not the call.
            Err(e) => lock(&state).finish(Err(Failure::of(&e))),
        }
        let instance = ChatStream { state }.into_instance(env)?;
        let mut object = instance.as_object(env);
        let symbol: Unknown<'_> = env
            .get_global()?
            .get_named_property::<Function<'_, (), ()>>("Symbol")?
            .get_named_property("asyncIterator")?;
        let itself = env.create_function_from_closure::<(), Object<'static>, _>(
            "[Symbol.asyncIterator]",
            |ctx: FunctionCallContext<'_>| ctx.this::<Object<'static>>(),
        )?;
        object.set_property(symbol, itself)?;
        Ok(instance)
    }

    /// Registers the model `model` of a local Ollama daemon (`llama3.2`,
    /// `nomic-embed-text:latest`) as `name:version`, framework `ollama`; the registered file is
    /// the manifest `{ model, mode, host, options, readTimeoutMs }`. No daemon is needed to
    /// register: it is asked at the first call.
    #[napi(
        ts_args_type = "name: string, version: string, model: string, options?: OllamaOptions",
        ts_return_type = "Promise<Model>"
    )]
    pub fn register_ollama(
        &self,
        name: Unknown<'_>,
        version: Unknown<'_>,
        model: Unknown<'_>,
        options: Unknown<'_>,
    ) -> AsyncTask<Job<Value>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let name: String = decode(&name, "name", "a string")?;
            let version: String = decode(&version, "version", "a string")?;
            let model: String = decode(&model, "model", "a string")?;
            let expected =
                "an object { mode?, host?, options?, readTimeoutMs?, stage?, metadata? }";
            let options: Option<OllamaOptions> = convert::object(&options, "options", expected)?;
            let registration = ollama_registration(name, version, model, options)?;
            Ok(work(move || record(engine.register_model(registration)?)))
        })();
        AsyncTask::new(Job::new(prepared))
    }
}

fn ollama_registration(
    name: String,
    version: String,
    model: String,
    options: Option<OllamaOptions>,
) -> CoreResult<ModelRegistration> {
    let mode = options.as_ref().and_then(|o| o.mode.clone()).unwrap_or_else(|| "chat".into());
    let mode: OllamaMode = serde_json::from_value(Value::String(mode.clone())).map_err(|_| {
        CoreError::invalid_input(format!(
            "options.mode must be 'embeddings', 'chat' or 'generate', got '{mode}'"
        ))
    })?;
    let mut manifest = OllamaModel::new(model, mode);
    let mut registration = ModelRegistration::new(name, version, Framework::Ollama);
    if let Some(o) = options {
        manifest.host = o.host;
        manifest.options = o.options;
        manifest.read_timeout_ms =
            o.read_timeout_ms.map(|t| convert::count(t, "options.readTimeoutMs")).transpose()?;
        if let Some(stage) = o.stage {
            registration = registration.stage(stage.parse::<Stage>()?);
        }
        if let Some(metadata) = o.metadata {
            registration = registration.metadata(metadata);
        }
    }
    let bytes = manifest.to_bytes();
    OllamaModel::from_bytes(&bytes)?;
    Ok(registration.bytes(bytes))
}

type Prepared = CoreResult<(ModelRef, Ask, Option<FunctionRef<String, Unknown<'static>>>)>;

impl Engine {
    /// `chat` / `generate`: the generation on the libuv pool, pieces pushed to `onToken`.
    fn push<'env>(&self, env: &'env Env, prepared: Prepared) -> napi::Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<Value, Resolver>()?;
        let (reference, ask, on_token) = match prepared {
            Ok(p) => p,
            Err(e) => {
                settle(deferred, Err(Failure::of(&e)));
                return Ok(promise);
            }
        };
        let state = Arc::new(Mutex::new(Push::default()));
        // JS-thread-only state of the dispatcher.
        let deferred = RefCell::new(Some(deferred));
        let thrown: Rc<RefCell<Option<napi::Error>>> = Rc::default();
        let shared = Arc::clone(&state);
        let dispatch = env.create_function_from_closure::<(), (), _>(
            "harperEdgeOnToken",
            move |ctx: FunctionCallContext<'_>| {
                let env = ctx.env;
                loop {
                    let piece = {
                        let mut s = lock(&shared);
                        if s.stop {
                            s.pieces.clear();
                        }
                        s.pieces.pop_front()
                    };
                    let Some(piece) = piece else { break };
                    let Some(on_token) = &on_token else { continue };
                    let answer = on_token.borrow_back(env).and_then(|f| f.call(piece));
                    match answer {
                        Ok(a) => {
                            let stop = matches!(a.get_type(), Ok(ValueType::Boolean))
                                && !a.coerce_to_bool().unwrap_or(true);
                            if stop {
                                lock(&shared).stop = true;
                            }
                        }
                        Err(e) => {
                            lock(&shared).stop = true;
                            thrown.borrow_mut().get_or_insert(e);
                        }
                    }
                }
                let finished = lock(&shared).finished.take();
                if let Some(result) = finished
                    && let Some(d) = deferred.borrow_mut().take()
                {
                    match thrown.borrow_mut().take() {
                        Some(e) => d.reject(e),
                        None => settle(d, result_value(&result.map_err(|e| Failure::of(&e)))),
                    }
                }
                Ok(())
            },
        )?;
        let wake: Wake = dispatch.build_threadsafe_function::<()>().build()?;
        let engine = Arc::clone(&self.engine);
        let task = Job::new(Ok(work(move || {
            let result = guarded(|| {
                engine.generate(&reference, &ask.prompt(), &InferContext::new(), &mut |piece| {
                    let mut s = lock(&state);
                    if s.stop {
                        return false;
                    }
                    s.pieces.push_back(piece.to_string());
                    drop(s);
                    wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
                    true
                })
            });
            lock(&state).finished = Some(result);
            wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
            Ok(())
        })));
        env.spawn(task)?;
        Ok(promise)
    }
}

fn item(piece: &str) -> Value {
    json!({ "value": piece, "done": false })
}

fn done() -> Value {
    json!({ "value": null, "done": true })
}

/// The state of a `ChatStream`, shared by the worker and the JS thread.
#[derive(Default)]
struct Pull {
    pieces: VecDeque<String>,
    /// `next()` calls waiting for a piece, oldest first.
    waiting: VecDeque<Deferred>,
    /// `result` reads waiting for the end.
    results: Vec<Deferred>,
    finished: Option<Result<GenerateResult, Failure>>,
    /// The failure was thrown by `next()` once already.
    reported: bool,
    /// `return()` was called: the answer is stopped at the next piece.
    stopped: bool,
}

impl Pull {
    /// The end of the answer: settles every waiting `next()` and `result`.
    fn finish(&mut self, result: Result<GenerateResult, Failure>) {
        let outcome = result_value(&result);
        for d in self.results.drain(..) {
            settle(d, outcome.clone());
        }
        let failure = outcome.err();
        for d in self.waiting.drain(..) {
            match &failure {
                Some(f) if !self.reported => {
                    self.reported = true;
                    settle(d, Err(f.clone()));
                }
                _ => settle(d, Ok(done())),
            }
        }
        self.finished = Some(result);
    }
}

/// The answer of `chatStream`, piece by piece: an async iterator of strings.
#[napi]
pub struct ChatStream {
    state: Arc<Mutex<Pull>>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").finish_non_exhaustive()
    }
}

#[napi]
impl ChatStream {
    /// The next piece (`{ value, done: false }`), or `{ done: true }` once the answer has
    /// ended; rejects once with the failure when the answer failed.
    #[napi(ts_return_type = "Promise<IteratorResult<string, undefined>>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<Value, Resolver>()?;
        let mut s = lock(&self.state);
        if let Some(piece) = s.pieces.pop_front() {
            settle(deferred, Ok(item(&piece)));
        } else if s.stopped {
            settle(deferred, Ok(done()));
        } else if let Some(finished) = &s.finished {
            let failure = finished.as_ref().err().cloned();
            match failure {
                Some(f) if !s.reported => {
                    s.reported = true;
                    settle(deferred, Err(f));
                }
                _ => settle(deferred, Ok(done())),
            }
        } else {
            s.waiting.push_back(deferred);
        }
        Ok(promise)
    }

    /// Stops the answer (`doneReason: 'cancelled'`, at the next piece) and ends the
    /// iteration; called by `for await` when the loop is left early.
    #[napi(js_name = "return", ts_return_type = "Promise<IteratorResult<string, undefined>>")]
    pub fn stop<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<Value, Resolver>()?;
        let mut s = lock(&self.state);
        s.stopped = true;
        s.pieces.clear();
        for d in s.waiting.drain(..) {
            settle(d, Ok(done()));
        }
        settle(deferred, Ok(done()));
        Ok(promise)
    }

    /// The `GenerateResult` once the answer has ended (all pieces streamed, or stopped);
    /// rejects with the failure when it failed.
    #[napi(getter, ts_return_type = "Promise<GenerateResult>")]
    pub fn result<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<Value, Resolver>()?;
        let mut s = lock(&self.state);
        match &s.finished {
            Some(finished) => settle(deferred, result_value(finished)),
            None => s.results.push(deferred),
        }
        Ok(promise)
    }
}
