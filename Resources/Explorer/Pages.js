// Orthanc Explorer, de-identification plugin: the buttons on the patient,
// study, series and instance pages, which of them show (capabilities of the
// plugin, de-identified or not), and the insertion of the CSS and templates.
// Loaded after Common.js and the dialogs (file-name order).
(function ($, ns) {
  'use strict';

  if (!$ || !ns) {
    return;
  }

  var LEVELS = ns.LEVELS;
  var ELLIPSIS = ns.ELLIPSIS;
  var OpenDialog = ns.OpenDialog;
  var GetCapabilities = ns.GetCapabilities;
  var IsDeidentified = ns.IsDeidentified;

  // ---- Buttons on the pages ------------------------------------------------

  function CurrentId() {
    return ($.mobile.pageData && $.mobile.pageData.uuid) ? String($.mobile.pageData.uuid) : null;
  }

  // "open" names the dialog's function in the namespace, looked up at click
  // time (the dialogs' files may come after this one).
  function AddItem(list, level, action, icon, label, open) {
    var link = $('<a href="#">').attr('id', 'deid-' + level + '-' + action).text(label);
    link.click(function (event) {
      event.preventDefault();
      var id = CurrentId();
      if (id === null) {
        return;
      }
      GetCapabilities().then(function (caps) {
        ns[open](level, id, caps);
      }, function (message) {
        OpenDialog(label).ShowError(message);
      });
    });
    var item = $('<li>').attr('data-icon', icon).append(link);
    list.append(item);
    return item;
  }

  function AddButtons(level) {
    $('#' + level).live('pagebeforecreate', function () {
      if ($('#deid-' + level + '-actions').length > 0) {
        return;
      }
      var list = $('<ul data-role="listview" data-inset="true" data-theme="d" data-divider-theme="c">')
        .attr('id', 'deid-' + level + '-actions');
      list.append($('<li data-role="list-divider">').text('De-identification (PS3.15)'));
      if (level === 'instance') {
        AddItem(list, level, 'preview', 'search', 'Preview de-identification', 'OpenPreview');
      }
      AddItem(list, level, 'deidentify', 'star', 'De-identify' + ELLIPSIS, 'OpenDeidentify');
      AddItem(list, level, 'send', 'forward', 'Send de-identified to' + ELLIPSIS, 'OpenSend').hide();
      AddItem(list, level, 'reidentify', 'back', 'Re-identify' + ELLIPSIS, 'OpenReidentify').hide();
      list.insertAfter($('#' + level + '-delete').closest('ul'));
    });

    $('#' + level).live('pagebeforeshow', function () {
      UpdateButtons(level);
    });
  }

  // What shows depends on the plugin's capabilities and on the resource.
  function UpdateButtons(level) {
    var id = CurrentId();
    var send = $('#deid-' + level + '-send').closest('li');
    var reidentify = $('#deid-' + level + '-reidentify').closest('li');
    var list = $('#deid-' + level + '-actions');
    send.hide();
    reidentify.hide();
    if (id === null || list.length === 0) {
      return;
    }
    GetCapabilities().then(function (caps) {
      if (caps.Send) {
        send.show();
      }
      list.listview('refresh');
      if (caps.Reidentification) {
        IsDeidentified(level, id, caps.SourceMetadata).then(function (deidentified) {
          if (deidentified && CurrentId() === id) {
            reidentify.show();
            list.listview('refresh');
          }
        });
      }
    });
  }

  // Orthanc Explorer reuses the page when only the resource changes (links
  // from one study to another): follow the hash as it does.
  $(window).bind('hashchange', function () {
    window.setTimeout(function () {
      var active = $.mobile.activePage ? $.mobile.activePage.attr('id') : '';
      if (LEVELS[active] !== undefined) {
        UpdateButtons(active);
      }
    }, 0);
  });

  $(function () {
    $('<style id="deid-style">').text(ns.assets['Deidentification.css'] || '').appendTo('head');
    $('body').append(ns.assets['Dialogs.html'] || '');
    $('#deid-close').click(ns.CloseDialog);
    $(document).keydown(function (event) {
      if (event.which === 27) {
        ns.CloseDialog();
      }
    });
  });

  $.each(['patient', 'study', 'series', 'instance'], function (i, level) {
    AddButtons(level);
  });
})(window.jQuery, window.DeidentificationExplorer);
