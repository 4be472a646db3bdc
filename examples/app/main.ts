// The example cdk8s app: `npx cdk8s synth` (see cdk8s.yaml) writes one manifest file per
// chart into dist/manifests/.
import { App } from 'cdk8s';
import { httpRoutingChart } from './http-routing.js';
import { sharedGatewayChart } from './shared-gateway.js';
import { simpleHttpHttpsChart } from './simple-http-https.js';
import { tlsRoutingChart } from './tls-routing.js';

const app = new App();
tlsRoutingChart(app);
sharedGatewayChart(app);
httpRoutingChart(app);
simpleHttpHttpsChart(app);
app.synth();
