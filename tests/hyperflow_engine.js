#!/usr/bin/env node
// Runs HyperFlow v1.5.7's own code (vendored in tests/data/hyperflow-1.5.7) for tests/test_hyperflow.py.
// Only its I/O is replaced: the Kubernetes client records each API call, redis records how it is
// created, and the modules the tested paths never reach (wflib, engine2, express server) are stubs.
// Everything it reports is one line "HARNESS <json>" on stdout, next to the engine's own output.
//
//   node hyperflow_engine.js hflow <args...>        bin/hflow.js with docopt 0.6.2: parse and dispatch
//   node hyperflow_engine.js task <exit code>       k8sCommand for one task whose job exits with <code>
'use strict';

const http = require('http');
const path = require('path');
const Module = require('module');

const ENGINE = path.join(__dirname, 'data', 'hyperflow-1.5.7');
const MODE = process.argv[2];
const report = (kind, data) => process.stdout.write('HARNESS ' + JSON.stringify({ kind, ...data }) + '\n');
process.on('exit', (code) => report('exit', { code }));

// ---- stubs for what the engine reaches outside its own code -------------------------------------
const apiClass = (name) => ({ [name]: class {} })[name];
const k8sClient = new Proxy(
  {
    KubeConfig: class {
      loadFromDefault() {}
      makeApiClient(api) {
        return new Proxy({}, {
          get: (_, method) => async (...args) => {
            report('api', { api: api.name, method, args });
            return { body: {} };
          },
        });
      }
    },
  },
  { get: (target, name) => target[name] || (target[name] = apiClass(String(name))) },
);
const redisClient = {
  createClient: (options) => {
    report('redis', { options: options === undefined ? null : options });
    return { address: 'stub', select: () => {}, on: () => {} };
  },
};
const byEnginePath = {
  wflib: { init: () => ({}) },
  engine2: function Engine() {},
  'utils/readvars.js': () => ({}),
  // the REST API itself is not under test, only where hflowStartServer binds it
  'server/hyperflow-server.js': () => http.createServer((req, res) => res.end('hyperflow')),
};
const byName = {
  '@kubernetes/client-node': k8sClient,
  redis: redisClient,
  async: { cargo: () => ({ push: () => {} }) },
  glob: { sync: () => [] },
  axios: (request) => {
    report('axios', { request });
    return Promise.resolve({});
  },
};

const realLoad = Module._load;
Module._load = function load(request, parent, isMain) {
  if (Object.prototype.hasOwnProperty.call(byName, request)) return byName[request];
  if (request.startsWith('.') && parent && parent.filename) {
    const rel = path.relative(ENGINE, path.resolve(path.dirname(parent.filename), request));
    if (Object.prototype.hasOwnProperty.call(byEnginePath, rel)) return byEnginePath[rel];
    if (rel === 'common/wfRun.js' && MODE === 'hflow') {
      // the real hflowStartServer; hflowRun only reports the options docopt parsed
      const real = realLoad.call(this, request, parent, isMain);
      return { hflowStartServer: real.hflowStartServer, hflowRun: (opts) => report('run', { opts }) };
    }
  }
  if (request === 'docopt') {
    const real = realLoad.call(this, request, parent, isMain);
    return {
      docopt: (doc, options) => {
        const opts = real.docopt(doc, options);
        report('opts', { opts });
        return opts;
      },
    };
  }
  return realLoad.call(this, request, parent, isMain);
};

const origListen = http.Server.prototype.listen;
http.Server.prototype.listen = function listen(...args) {
  this.once('listening', () => report('listening', this.address()));
  return origListen.apply(this, args);
};

// ---- modes ---------------------------------------------------------------------------------------
const [mode, ...rest] = process.argv.slice(2);
if (mode === 'hflow') {
  process.argv = [process.argv[0], path.join(ENGINE, 'bin', 'hflow.js'), ...rest];
  require(path.join(ENGINE, 'bin', 'hflow.js'));
} else if (mode === 'task') {
  const exitCode = String(rest[0]);
  // wflib/index.js:1439 (v1.5.7): conf.redis_url = "redis://" + rcl.address -- host:port, no password
  const url = new URL(process.env.REDIS_URL);
  const redisUrl = 'redis://' + url.hostname + ':' + (url.port || '6379');
  const taskId = 'wf:1-1:task-1';
  const context = {
    name: 'mProject',
    taskId,
    procId: 1,
    firingId: 1,
    hfId: 'hf1',
    appId: '1',
    wfname: 'montage',
    redis_url: redisUrl,
    appConfig: {},
    executor: { executable: 'mProject', args: ['-X', 'in.fits', 'out.fits'] },
    sendMsgToJob: async (message, id) => report('message', { id }),
    jobResult: async () => [taskId, exitCode],
    markTaskCompleted: async () => report('completed', {}),
  };
  const { k8sCommand } = require(path.join(ENGINE, 'functions', 'kubernetes', 'k8sCommand.js'));
  k8sCommand([], [], context, (err, outs) => report('callback', { err: err ? String(err) : null }));
} else {
  process.stderr.write('usage: hyperflow_engine.js hflow <args...> | task <exit code>\n');
  process.exit(2);
}
