// The console UI of the hello-world extension: a SystemJS module, the format
// the KubeSphere console loads (it is served at /dist/hello-world/index.js).
// The console provides "react" (and the other shared libraries, such as
// "@kubed/components" and "styled-components"): list what the module needs
// in System.register's first argument and receive each in the setter at the
// same position.
//
// The module default-exports {routes, menus, locales}, as KubeSphere 4.1 and
// later expect. It is written by hand so that the extension works without a
// build; for a real UI, build one with the console's extension tooling
// (yarn create ks-project, yarn create:ext, yarn build:ext hello-world) and
// replace this file with the result:
//   ksbuilder bundle extensions/hello-world/dist/index.js
System.register(["react"], function (exportValue) {
  "use strict";
  var React;
  return {
    setters: [
      function (module) { React = module.default; }
    ],
    execute: function () {
      var h = React.createElement;

      // Translations of the keys used below, merged into the console's.
      var locales = {
        en: {
          "HELLO_WORLD_TITLE": "Hello World",
          "HELLO_WORLD_DESC": "Hello World extension for KubeSphere",
          "HELLO_WORLD_WELCOME": "Hello from Hello World!"
        },
        zh: {
          "HELLO_WORLD_TITLE": "Hello World",
          "HELLO_WORLD_DESC": "Hello World 扩展组件",
          "HELLO_WORLD_WELCOME": "Hello World 向你问好！"
        }
      };

      // The console's translation function (a global); without it, English.
      function t(key) {
        return typeof window.t === "function" ? window.t(key) : locales.en[key] || key;
      }

      function Page() {
        return h("div", { style: { margin: "8rem auto", textAlign: "center" } },
          h("h2", null, t("HELLO_WORLD_TITLE")),
          h("p", null, t("HELLO_WORLD_WELCOME")));
      }

      exportValue("default", {
        // The page, at http(s)://<console>/hello-world.
        routes: [
          { path: "/hello-world", element: h(Page) }
        ],
        // The entry in the console's global navigation ("global"; KubeSphere
        // 4.2 no longer shows the parents "topbar" and "project"). Title and
        // description are keys of the locales.
        menus: [
          {
            parent: "global",
            name: "hello-world",
            title: "HELLO_WORLD_TITLE",
            desc: "HELLO_WORLD_DESC",
            icon: "cluster",
            order: 0,
            skipAuth: true
          }
        ],
        locales: locales
      });
    }
  };
});
