const t = Date.now();
process.on('exit', () => console.log('exit at', Date.now() - t));
const { main } = await import('../src/cli/db.js');
console.log('imported', Date.now() - t);
console.log('rc', await main(['migrate']), Date.now() - t);
setInterval(() => console.log('handles', (process as any)._getActiveHandles().map((h: any) => h.constructor.name), (process as any)._getActiveRequests().length, Date.now() - t), 2000).unref();
