#!/usr/bin/env node
// The todo example of recondb's DESIGN.md, as a small Node.js gRPC client.
//
// Talks to a running recondbd: creates the `todos` table (already there is
// fine), creates todos, reads one, marks it done with a partial update
// (update_mask), lists the completed ones and those due within N days (soonest
// first), shows a record's history, deletes a todo and prints the change feed.
//
// Uses @grpc/grpc-js and @grpc/proto-loader, which loads proto/recondb/v1 at
// run time (no code generation). From the repository root:
//
//   (cd examples/node && npm ci) && node examples/node/todo.js --addr 127.0.0.1:7470
//
// Every call has a deadline. On a failed call it prints the gRPC status to
// stderr and exits with code 1.
'use strict';

const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_ADDR = '127.0.0.1:7470';
const DAY_MS = 24 * 60 * 60 * 1000;

function usage() {
  return `usage: node todo.js [--addr HOST:PORT] [--proto-dir DIR] [--table NAME] [--days N] [--timeout SECONDS]
  --addr       daemon address (env RECONDB_ADDR, default ${DEFAULT_ADDR})
  --proto-dir  directory holding recondb/v1/*.proto (default ../../proto)
  --table      table name (default todos)
  --days       list the todos due within N days (default 7)
  --timeout    deadline of each call in seconds (default 10)
  --tls-ca     PEM file of the CA of the daemon's certificate: connect with TLS (env RECONDB_TLS_CA)
  --tls-cert   PEM client certificate, for a daemon that requires one (mTLS; env RECONDB_TLS_CERT)
  --tls-key    PEM key of --tls-cert (env RECONDB_TLS_KEY)
  --tls-server-name  name to verify the daemon's certificate against, if not the host of --addr
  --token      bearer token of the principal to call as (env RECONDB_TOKEN)`;
}

const OPTIONS = {
  addr: { type: 'string', default: process.env.RECONDB_ADDR || DEFAULT_ADDR },
  'proto-dir': { type: 'string', default: path.join(__dirname, '..', '..', 'proto') },
  table: { type: 'string', default: 'todos' },
  days: { type: 'string', default: '7' },
  timeout: { type: 'string', default: '10' },
  'tls-ca': { type: 'string', default: process.env.RECONDB_TLS_CA },
  'tls-cert': { type: 'string', default: process.env.RECONDB_TLS_CERT },
  'tls-key': { type: 'string', default: process.env.RECONDB_TLS_KEY },
  'tls-server-name': { type: 'string', default: process.env.RECONDB_TLS_SERVER_NAME },
  token: { type: 'string', default: process.env.RECONDB_TOKEN },
  help: { type: 'boolean', short: 'h', default: false },
};

// The command line; exits with code 2 on a bad one.
function options() {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (err) {
    console.error(`${err.message}\n${usage()}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const days = Number(values.days);
  const timeout = Number(values.timeout);
  if (!Number.isInteger(days) || !(timeout > 0)) {
    console.error(`--days takes a whole number and --timeout a positive number\n${usage()}`);
    process.exit(2);
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined) ||
      (values['tls-cert'] !== undefined && values['tls-ca'] === undefined)) {
    console.error(`--tls-cert and --tls-key go together, and need --tls-ca\n${usage()}`);
    process.exit(2);
  }
  return {
    addr: values.addr,
    protoDir: values['proto-dir'],
    table: values.table,
    days,
    timeout,
    tlsCa: values['tls-ca'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    tlsServerName: values['tls-server-name'],
    token: values.token,
  };
}

// Plaintext, or TLS (and mTLS) with --tls-ca. A token goes on every call
// through an interceptor rather than call credentials, which grpc-js only
// sends over TLS: a daemon on loopback may run --auth=on without TLS.
function connect(Database, opts) {
  const read = (file) => (file === undefined ? null : fs.readFileSync(file));
  const credentials =
    opts.tlsCa === undefined
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(read(opts.tlsCa), read(opts.tlsKey), read(opts.tlsCert));
  const channelOptions = {};
  if (opts.tlsServerName !== undefined) {
    channelOptions['grpc.ssl_target_name_override'] = opts.tlsServerName;
  }
  if (opts.token !== undefined && opts.token !== '') {
    channelOptions.interceptors = [
      (options, nextCall) =>
        new grpc.InterceptingCall(nextCall(options), {
          start(metadata, listener, next) {
            metadata.set('authorization', `Bearer ${opts.token}`);
            next(metadata, listener);
          },
        }),
    ];
  }
  return new Database(opts.addr, credentials, channelOptions);
}

// Loads recondb.v1 from the .proto files. keepCase keeps the field names of
// the protos (deadline_at, update_mask); 64-bit integers come as strings so
// nothing is rounded; enums as their names; defaults filled in; `kind` names
// the field set in a oneof (Value.kind).
function loadDatabaseService(protoDir) {
  const definition = protoLoader.loadSync('recondb/v1/database.proto', {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).recondb.v1.Database;
}

// --- Values ----------------------------------------------------------------

const string = (s) => ({ string: s });
const bool = (b) => ({ bool: b });
function timestamp(date) {
  const ms = date.getTime();
  return { timestamp: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } };
}

// A Value as text: `kind` says which field of the oneof is set.
function show(value) {
  switch (value && value.kind) {
    case undefined:
    case null:
    case 'null':
      return '-';
    case 'timestamp': {
      const date = new Date(Number(value.timestamp.seconds) * 1000);
      return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    }
    case 'bool':
      return value.bool ? 'yes' : 'no';
    case 'bytes':
      return value.bytes.toString('base64');
    default:
      return String(value[value.kind]);
  }
}

function line(todo) {
  const a = todo.attributes;
  return `${todo.id.padEnd(36)}  ${show(a.title).padEnd(20)}  done=${show(a.completed).padEnd(3)}  due ${show(a.deadline_at)}`;
}

// --- The example -------------------------------------------------------------

// The calls of the example, as promises; each one with a deadline.
class Todos {
  constructor(client, table, timeoutSeconds) {
    this.client = client;
    this.table = table;
    this.timeoutMs = timeoutSeconds * 1000;
  }

  deadline() {
    return { deadline: new Date(Date.now() + this.timeoutMs) };
  }

  call(method, request) {
    return new Promise((resolve, reject) => {
      this.client[method](request, this.deadline(), (err, response) => {
        if (err) {
          err.method = method;
          reject(err);
        } else {
          resolve(response);
        }
      });
    });
  }

  async createTable() {
    const table = {
      name: this.table,
      columns: [
        { name: 'title', type: 'COLUMN_TYPE_STRING', max_length: 80 },
        { name: 'description', type: 'COLUMN_TYPE_STRING', nullable: true, max_length: 120 },
        { name: 'completed', type: 'COLUMN_TYPE_BOOL', default_value: bool(false) },
        { name: 'deadline_at', type: 'COLUMN_TYPE_TIMESTAMP', nullable: true, indexed: true },
      ],
    };
    try {
      await this.call('CreateTable', { table });
      return 'created';
    } catch (err) {
      if (err.code !== grpc.status.ALREADY_EXISTS) throw err;
      return 'already exists';
    }
  }

  create(title, deadline, description) {
    const attributes = { title: string(title), deadline_at: timestamp(deadline) };
    if (description !== undefined) attributes.description = string(description);
    return this.call('PutRecord', { record: { table: this.table, attributes } });
  }

  get(id) {
    return this.call('GetRecord', { table: this.table, id });
  }

  // Partial update: only `completed` changes, the other columns keep their value.
  complete(todo) {
    return this.call('PutRecord', {
      record: { table: this.table, id: todo.id, revision: todo.revision, attributes: { completed: bool(true) } },
      update_mask: { paths: ['completed'] },
    });
  }

  // Every matching todo, following the pages.
  async list(filter, order_by = '') {
    const records = [];
    let page_token = '';
    do {
      const response = await this.call('ListRecords', { table: this.table, filter, order_by, page_token });
      records.push(...response.records);
      page_token = response.next_page_token;
    } while (page_token);
    return records;
  }

  completed() {
    return this.list([{ column: 'completed', op: 'OPERATOR_EQ', value: bool(true) }]);
  }

  dueWithin(now, days) {
    return this.list(
      [
        { column: 'deadline_at', op: 'OPERATOR_GE', value: timestamp(now) },
        { column: 'deadline_at', op: 'OPERATOR_LE', value: timestamp(new Date(now.getTime() + days * DAY_MS)) },
      ],
      'deadline_at',
    );
  }

  async history(id) {
    return (await this.call('GetRecordHistory', { table: this.table, id })).entries;
  }

  delete(id) {
    return this.call('DeleteRecord', { table: this.table, id });
  }

  // A server stream; the deadline covers the whole stream.
  changes(since = '0') {
    return new Promise((resolve, reject) => {
      const changes = [];
      const stream = this.client.GetChanges({ since, tables: [this.table] }, this.deadline());
      stream.on('data', (change) => changes.push(change));
      stream.on('error', (err) => {
        err.method = 'GetChanges';
        reject(err);
      });
      stream.on('end', () => resolve(changes));
    });
  }
}

async function run(todos, days) {
  console.log(`table ${todos.table}: ${await todos.createTable()}`);

  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const filters = await todos.create('Buy water filters', new Date(now.getTime() + 2 * DAY_MS));
  const call = await todos.create('Call head office', new Date(now.getTime() + 1 * DAY_MS), 'about the filters');
  const radio = await todos.create('Charge the radio', new Date(now.getTime() + 20 * DAY_MS));
  for (const todo of [filters, call, radio]) {
    console.log(`created   ${todo.id}  revision ${todo.revision}`);
  }

  const read = await todos.get(filters.id);
  console.log(`read      ${read.id}  title='${show(read.attributes.title)}' completed=${show(read.attributes.completed)}`);

  const done = await todos.complete(read);
  console.log(
    `updated   ${done.id}  revision ${done.revision}  completed=${show(done.attributes.completed)}, ` +
      `title kept: '${show(done.attributes.title)}'`,
  );

  const completed = await todos.completed();
  console.log(`completed todos: ${completed.length}`);
  for (const todo of completed) console.log(`  ${line(todo)}`);

  const due = await todos.dueWithin(now, days);
  console.log(`due within ${days} days, soonest first: ${due.length}`);
  for (const todo of due) console.log(`  ${line(todo)}`);

  console.log(`history of ${done.id}:`);
  for (const entry of await todos.history(done.id)) {
    console.log(`  ${entry.record.revision}  parent ${entry.parent_revision || '-'}${entry.leaf ? '  (leaf)' : ''}`);
  }

  const tombstone = await todos.delete(radio.id);
  console.log(`deleted   ${tombstone.id}  tombstone ${tombstone.revision}`);

  console.log(`change feed of ${todos.table}:`);
  for (const change of await todos.changes()) {
    const what = change.kind.replace('CHANGE_KIND_', '').toLowerCase();
    const deleted = change.deleted ? '  (deleted)' : '';
    console.log(`  seq ${change.seq.padEnd(4)} ${what.padEnd(6)} ${change.id || change.table} ${change.revision}${deleted}`.trimEnd());
  }
}

async function main() {
  const opts = options();
  const Database = loadDatabaseService(opts.protoDir);
  const client = connect(Database, opts);
  try {
    console.log(`recondb at ${opts.addr}`);
    await run(new Todos(client, opts.table, opts.timeout), opts.days);
    return 0;
  } catch (err) {
    if (err.code === undefined) throw err; // not a gRPC status: a bug here
    const code = Object.keys(grpc.status).find((name) => grpc.status[name] === err.code);
    console.error(`error: ${code}: ${err.details}`);
    return 1;
  } finally {
    client.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
