/**
 * The nginx configuration suite 2 compares shardgate with: one worker,
 * consistent hashing of the request URI over the pushgateways, upstream
 * keep-alive (as shardgate keeps its upstream connections), no access log,
 * and every path nginx writes under `dir`.
 */
export function nginxConf(dir: string, port: number, upstreams: readonly string[]): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream pushgateways {
    hash $request_uri consistent;
${upstreams.map((u) => `    server ${u};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://pushgateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}
