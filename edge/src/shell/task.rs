//! The fetch handler's executor: one task per request, resumed by the
//! reactions of the promises it awaits.
//!
//! `wasm_bindgen_futures::future_to_promise` first polls a request's future
//! from a microtask, and every `JsFuture` it awaits makes two closures (each
//! registered with a `FinalizationRegistry`, each destroyed across the
//! boundary) and then wakes the task through another microtask: about a
//! tenth of the edge's CPU under load (docs/benchmarks.md, "Fifth pass").
//! Here the first poll runs inside the `fetch` call, so a response the edge
//! makes without waiting goes back as it is, with no Promise at all; a
//! promise awaited through [`settled`] is handed to the glue after the poll,
//! and its reaction there polls the task again directly.
//!
//! Any other future still works. When a poll ends without a promise handed
//! over (the task waits on workers-rs' KV, Cache or Durable Object futures,
//! or on a body read), the rest of the task is handed to
//! `wasm_bindgen_futures`, whose first poll replaces every waker this one
//! gave out.
//!
//! A task the runtime abandons (the client went away: the awaited promise's
//! reactions are dropped unrun) is dropped when the glue's
//! `FinalizationRegistry` sees them collected, as wasm-bindgen's closures are.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::Promise;
use worker::wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::web_sys;

use super::glue;

type Handler = Pin<Box<dyn Future<Output = web_sys::Response>>>;

/// A request in flight.
#[derive(Default)]
struct Task {
    /// `None` while it is being polled.
    future: Option<Handler>,
    /// The number of the promise the task waits on through [`settled`];
    /// `None` once it settled.
    chained: Option<u32>,
    /// That promise, until the poll that registered it returns.
    to_chain: Option<Promise>,
    /// What promise `seq` settled to, until its [`Settled`] takes it.
    outcome: Option<(u32, Result<JsValue, JsValue>)>,
}

thread_local! {
    static TASKS: RefCell<HashMap<u32, Task>> = RefCell::new(HashMap::new());
    /// Task ids and promise numbers: never 0 (0 is "no task").
    static NEXT: Cell<u32> = const { Cell::new(0) };
    /// The task being polled, for [`Settled`]; 0 outside one.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
    static DRIVER_SET: Cell<bool> = const { Cell::new(false) };
}

fn next_number() -> u32 {
    NEXT.with(|n| {
        let v = n.get().wrapping_add(1).max(1);
        n.set(v);
        v
    })
}

/// Runs `handler` as a request's task: its response when it finishes without
/// waiting, else a Promise of it.
pub fn run(handler: impl Future<Output = web_sys::Response> + 'static) -> JsValue {
    install_driver();
    let id = next_number();
    TASKS.with(|t| t.borrow_mut().insert(id, Task::default()));
    match poll_task(id, Box::pin(handler)) {
        Step::Done(response) => response.into(),
        Step::HandedOver(promise) => promise.into(),
        Step::Waiting => glue::client_promise(id).into(),
    }
}

/// Tasks waiting on a promise through the glue (the others are done, or
/// were handed to wasm-bindgen-futures).
pub fn in_flight() -> usize {
    TASKS.with(|t| t.borrow().len())
}

enum Step {
    Done(web_sys::Response),
    /// Resumed by the glue when the chained promise settles.
    Waiting,
    /// The rest runs under `wasm_bindgen_futures`.
    HandedOver(Promise),
}

fn poll_task(id: u32, mut future: Handler) -> Step {
    let waker = waker(id);
    let outer = CURRENT.with(|c| c.replace(id));
    let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
    CURRENT.with(|c| c.set(outer));
    if let Poll::Ready(response) = polled {
        TASKS.with(|t| t.borrow_mut().remove(&id));
        return Step::Done(response);
    }
    let mut future = Some(future);
    let chain = TASKS.with(|t| {
        let mut tasks = t.borrow_mut();
        let task = tasks.get_mut(&id)?;
        let seq = task.chained?;
        task.future = future.take();
        Some((seq, task.to_chain.take()))
    });
    match (chain, future) {
        (Some((seq, Some(promise))), _) => {
            glue::resume_on(&promise, id, seq);
            Step::Waiting
        }
        // Nothing the glue could resume it from: the future was not put back.
        (None, Some(future)) => {
            TASKS.with(|t| t.borrow_mut().remove(&id));
            let rest = async move { Ok(JsValue::from(future.await)) };
            Step::HandedOver(future_to_promise(rest))
        }
        _ => Step::Waiting,
    }
}

/// Polls task `id` again (a promise settled, or a waker fired) and answers
/// the client when it is done. A task already gone is ignored.
fn drive(id: u32) {
    let Some(future) = TASKS.with(|t| t.borrow_mut().get_mut(&id).and_then(|task| task.future.take())) else {
        return;
    };
    match poll_task(id, future) {
        Step::Done(response) => glue::settle_client(id, &response),
        Step::HandedOver(promise) => glue::settle_client(id, &promise),
        Step::Waiting => {}
    }
}

/// The glue's reaction to promise `seq` of task `id`.
fn resume(id: u32, seq: u32, ok: bool, value: JsValue) {
    let current = TASKS.with(|t| {
        let mut tasks = t.borrow_mut();
        let Some(task) = tasks.get_mut(&id).filter(|task| task.chained == Some(seq)) else { return false };
        task.chained = None;
        task.outcome = Some((seq, if ok { Ok(value) } else { Err(value) }));
        true
    });
    if current {
        drive(id);
    }
}

/// The reactions to promise `seq` of task `id` were collected unrun: nothing
/// can resume the task any more.
fn forget(id: u32, seq: u32) {
    let dropped = TASKS.with(|t| {
        let mut tasks = t.borrow_mut();
        let abandoned = tasks.get(&id).is_some_and(|task| task.chained == Some(seq) && task.future.is_some());
        abandoned.then(|| tasks.remove(&id))
    });
    if dropped.is_some() {
        glue::drop_client(id);
    }
}

/// The glue's three ways back in, made once per isolate.
fn install_driver() {
    if DRIVER_SET.with(|d| d.replace(true)) {
        return;
    }
    let on_settle = Closure::<dyn FnMut(u32, u32, bool, JsValue)>::new(resume);
    let on_wake = Closure::<dyn FnMut(u32)>::new(drive);
    let on_lost = Closure::<dyn FnMut(u32, u32)>::new(forget);
    glue::set_driver(on_settle.as_ref().unchecked_ref(), on_wake.as_ref().unchecked_ref(), on_lost.as_ref().unchecked_ref());
    // The isolate's for good.
    on_settle.forget();
    on_wake.forget();
    on_lost.forget();
}

/// A waker for futures other than [`Settled`]: it polls the task from a
/// microtask, as wasm-bindgen-futures' own would.
fn waker(id: u32) -> Waker {
    fn clone(data: *const ()) -> RawWaker {
        RawWaker::new(data, &VTABLE)
    }
    fn wake(data: *const ()) {
        glue::wake_soon(data as usize as u32);
    }
    fn drop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    // SAFETY: the data is the task id, not a pointer; every vtable function
    // treats it as such and none dereferences it.
    unsafe { Waker::from_raw(RawWaker::new(id as usize as *const (), &VTABLE)) }
}

/// `promise` awaited: resumed from the promise's own reaction when awaited by
/// a task's first await in a poll; a plain [`JsFuture`] otherwise (outside a
/// task, or beside another such await).
pub fn settled(promise: Promise) -> Settled {
    Settled { state: State::New(promise) }
}

pub struct Settled {
    state: State,
}

enum State {
    New(Promise),
    Chained { task: u32, seq: u32 },
    Plain(JsFuture),
    Done,
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match &mut this.state {
            State::New(_) => {
                let State::New(promise) = std::mem::replace(&mut this.state, State::Done) else { return Poll::Pending };
                let mut promise = Some(promise);
                let task = CURRENT.with(Cell::get);
                let seq = next_number();
                if task != 0 {
                    TASKS.with(|t| match t.borrow_mut().get_mut(&task) {
                        Some(entry) if entry.chained.is_none() => {
                            entry.chained = Some(seq);
                            entry.to_chain = promise.take();
                        }
                        _ => {}
                    });
                }
                let Some(promise) = promise else {
                    this.state = State::Chained { task, seq };
                    return Poll::Pending;
                };
                let mut plain = JsFuture::from(promise);
                let polled = Pin::new(&mut plain).poll(cx);
                this.state = State::Plain(plain);
                polled
            }
            State::Chained { task, seq } => {
                let outcome = TASKS.with(|t| {
                    let mut tasks = t.borrow_mut();
                    let entry = tasks.get_mut(task)?;
                    match entry.outcome.take() {
                        Some((s, result)) if s == *seq => Some(result),
                        other => {
                            entry.outcome = other;
                            None
                        }
                    }
                });
                match outcome {
                    Some(result) => {
                        this.state = State::Done;
                        Poll::Ready(result)
                    }
                    None => Poll::Pending,
                }
            }
            State::Plain(plain) => Pin::new(plain).poll(cx),
            State::Done => Poll::Pending,
        }
    }
}
