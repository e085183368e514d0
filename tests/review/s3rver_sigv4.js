// Starts @20minutes/s3rver (the maintained s3rver fork that verifies SigV4 signatures).
// Its npm package ships no CLI entry, so the tests start it through its API:
//   node s3rver_sigv4.js <path to lib/s3rver.js> <data dir> <port>
const [modulePath, directory, port] = process.argv.slice(2);
const S3rver = require(modulePath);
new S3rver({ directory, address: '127.0.0.1', port: Number(port), silent: true, vhostBuckets: false })
  .run()
  .then(({ address, port: bound }) => console.log(`S3rver listening on ${address}:${bound}`))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
