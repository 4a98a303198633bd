// The browser's saved state of the in-page run, in IndexedDB (works in the page and in Web Workers): the run record
// (settings, tokenizer, metrics, samples, trainer state) and its latest checkpoint (weights + AdamW moments) are
// written in one transaction, so a reload finds either the previous checkpoint or the new one, never a mix.

const DB = 'tinystories-site';
const STORE = 'kv';

function open(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error ?? new Error('IndexedDB: cannot open the database'));
  });
}

let db: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  db ??= open();
  return db;
}

/** Reads one key (undefined when absent). */
export async function load<T>(key: string): Promise<T | undefined> {
  const d = await database();
  return new Promise((ok, fail) => {
    const req = d.transaction(STORE, 'readonly').objectStore(STORE).get(key);
    req.onsuccess = () => ok(req.result as T | undefined);
    req.onerror = () => fail(req.error);
  });
}

/** Writes several keys atomically (a value of undefined deletes the key). */
export async function save(values: Record<string, unknown>): Promise<void> {
  const d = await database();
  return new Promise((ok, fail) => {
    const tx = d.transaction(STORE, 'readwrite');
    const st = tx.objectStore(STORE);
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) st.delete(k);
      else st.put(v, k);
    }
    tx.oncomplete = () => ok();
    tx.onerror = () => fail(tx.error ?? new Error('IndexedDB: write failed'));
    tx.onabort = () => fail(tx.error ?? new Error('IndexedDB: write aborted (storage full?)'));
  });
}
